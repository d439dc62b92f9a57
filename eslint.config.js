// Lint rules that guard correctness (floating promises) and the one-way import graph:
// plugins <- node <- harness, and the checker sees only histories and models.
import tseslint from "typescript-eslint";

const restrict = (files, patterns, extra = {}) => ({
  files,
  rules: {
    "no-restricted-imports": ["error", { patterns }],
    ...extra,
  },
});

export default tseslint.config(
  { ignores: ["node_modules/**", "dist/**", "results/**", "bin/**", "eslint.config.js"] },
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  restrict(["plugins/**/*.ts"], [
    { group: ["**/node/**", "**/harness/**"], message: "plugins know nothing of nodes or the harness" },
  ]),
  restrict(["node/**/*.ts"], [
    { group: ["**/harness/**"], message: "node/ must not import the harness" },
  ]),
  restrict(
    ["node/raft/**/*.ts"],
    [
      { group: ["**/server/**", "**/sim/**", "**/plugins/**", "**/harness/**"], message: "the Raft core is pure" },
      { group: ["node:*", "fs", "net", "timers", "crypto"], message: "the Raft core does no I/O" },
    ],
    {
      "no-restricted-properties": ["error",
        { object: "Math", property: "random", message: "pass a seeded Rng" },
        { object: "Date", property: "now", message: "time is ticks" }],
      "no-restricted-globals": ["error", "setTimeout", "setInterval", "setImmediate", "Date", "performance"],
    },
  ),
  restrict(["harness/checker/**/*.ts"], [
    { group: ["**/node/**", "**/runtime/**", "**/nemesis/**", "**/generator/**", "**/client/**"], message: "the checker knows only histories and models" },
  ]),
);
