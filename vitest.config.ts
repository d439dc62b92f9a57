import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["node/**/*.test.ts", "plugins/**/*.test.ts", "harness/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["node_modules", "dist", "results"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
