import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["{lib,history,checker,node,plugins,harness,docker,cli,test}/**/*.test.ts"],
    exclude: ["node_modules", "dist", "results"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Real clusters (local processes, containers) from two files at once starve each other on a
    // 2-core CI machine and race for loopback ports: run files one at a time.
    fileParallelism: false,
  },
});
