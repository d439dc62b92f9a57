// Replays the core's interaction transcripts (node/raft/testdata/*.txt). On a difference, run
// RAFTLAB_REWRITE=1 npx vitest run node/sim/interaction.test.ts and read the diff: commit it only
// when you understand what changed it (etcd's datadriven -rewrite rule).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { runTranscript } from "../raft/testing/interaction.js";
import { PipelineEnv } from "../driver/testing/pipeline-interaction.js";

const directory = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../raft/testdata");
const files = readdirSync(directory)
  .filter((name) => name.endsWith(".txt"))
  .sort();

describe("core interaction transcripts", () => {
  test.each(files)("%s", (name) => {
    const file = path.join(directory, name);
    const expected = readFileSync(file, "utf8");
    // pipeline-*.txt drive one node's Ready pipeline over a hand-completed disk; the rest the core.
    const actual = runTranscript(expected, name.startsWith("pipeline-") ? new PipelineEnv() : undefined);
    if (process.env["RAFTLAB_REWRITE"] === "1") {
      writeFileSync(file, actual);
      return;
    }
    expect(actual).toBe(expected);
  });
});
