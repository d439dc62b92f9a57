// Lint rules that guard correctness (floating promises) and the one-way import graph:
// lib <- plugins <- node <- harness <- cli, history <- checker; the checker sees only histories and
// models, the node only plugins and lib (so its image carries nothing else).
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
  // lib/: pure helpers, allowed everywhere, importing no other part of the project.
  restrict(
    ["lib/**/*.ts"],
    [
      {
        group: ["**/history/**", "**/checker/**", "**/node/**", "**/plugins/**", "**/harness/**", "**/docker/**", "**/cli/**"],
        message: "lib/ is pure helpers: it imports no other part of raftlab",
      },
    ],
  ),
  restrict(
    ["plugins/**/*.ts"],
    [
      {
        group: ["**/node/**", "**/harness/**", "**/checker/**", "**/docker/**", "**/cli/**"],
        message: "plugins know nothing of nodes, the checker or the harness",
      },
    ],
  ),
  restrict(
    ["history/**/*.ts"],
    [
      {
        group: ["**/node/**", "**/harness/**", "**/checker/**", "**/docker/**", "**/cli/**"],
        message: "the history format depends only on lib/ and plugin types",
      },
    ],
  ),
  restrict(
    ["checker/**/*.ts"],
    [{ group: ["**/node/**", "**/harness/**", "**/docker/**", "**/cli/**"], message: "the checker knows only histories and models" }],
  ),
  restrict(
    ["node/**/*.ts"],
    [{ group: ["**/harness/**", "**/checker/**", "**/history/**", "**/docker/**", "**/cli/**"], message: "node/ knows only plugins and lib/" }],
  ),
  restrict(["docker/**/*.ts"], [{ group: ["**/harness/**", "**/checker/**", "**/cli/**"], message: "the image builder knows nothing of runs" }]),
  restrict(["harness/**/*.ts"], [{ group: ["**/cli/**"], message: "commands call the harness, not the other way round" }]),
  // node/driver/: the Ready pipeline the server and the simulator share; its I/O is behind ports.
  restrict(
    ["node/driver/**/*.ts"],
    [
      { group: ["**/server/**", "**/sim/**", "**/plugins/**"], message: "the pipeline reaches storage, network and time only through its ports" },
      { group: ["node:*", "fs", "net", "timers", "crypto"], message: "the pipeline does no I/O" },
    ],
    {
      "no-restricted-properties": ["error", { object: "Math", property: "random", message: "pass a seeded Rng" }],
      "no-restricted-globals": ["error", "setTimeout", "setInterval", "setImmediate", "Date", "performance"],
    },
  ),
  restrict(
    ["node/raft/**/*.ts"],
    [
      { group: ["**/server/**", "**/sim/**", "**/plugins/**", "**/harness/**", "**/checker/**", "**/history/**"], message: "the Raft core is pure" },
      { group: ["node:*", "fs", "net", "timers", "crypto"], message: "the Raft core does no I/O" },
    ],
    {
      "no-restricted-properties": [
        "error",
        { object: "Math", property: "random", message: "pass a seeded Rng" },
        { object: "Date", property: "now", message: "time is ticks" },
      ],
      "no-restricted-globals": ["error", "setTimeout", "setInterval", "setImmediate", "Date", "performance"],
    },
  ),
);
