// Every workload shipped in workloads/ loads, and every one that is not a deliberate bug
// (unsafe-*) runs VALID on the local runtime: users start from these files, so each must work as
// written (here shortened with --duration; faults, plugin, nodes and mix are the file's own).
import { readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UNSAFE_FLAGS } from "../../node/protocol/unsafe-flags.js";
import { readWorkloadFile } from "../../harness/workload/load.js";
import { projectRoot, requireBuiltCli, runCli, summaryOf } from "../support/run-cli.js";

const workloadFiles = readdirSync(join(projectRoot, "workloads"))
  .filter((name) => name.endsWith(".yaml"))
  .sort();
const safeWorkloads = workloadFiles.filter((name) => !name.startsWith("unsafe-"));
/**
 * Switches whose shipped fault mix does not yet catch them reliably (one seeded local run each
 * stayed VALID, or unknown for snapshot-without-sessions; see bench:detect and the README table):
 * not claimed here until tuned.
 */
const weaklyDetected = new Set([
  "unsafe-append-without-truncate.yaml",
  "unsafe-vote-not-persisted.yaml",
  "unsafe-commit-previous-term.yaml",
  "unsafe-snapshot-without-sessions.yaml",
]);
const unsafeWorkloads = workloadFiles.filter((name) => name.startsWith("unsafe-") && !weaklyDetected.has(name));

let directory: string;
beforeAll(async () => {
  requireBuiltCli();
  directory = await mkdtemp(join(tmpdir(), "raftlab-shipped-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("shipped workloads", () => {
  it("cover every built-in plugin and every unsafe switch", async () => {
    const specs = await Promise.all(workloadFiles.map(async (name) => (await readWorkloadFile(join(projectRoot, "workloads", name))).spec));
    expect(new Set(specs.map((spec) => spec.plugin))).toEqual(new Set(["kv", "counter", "queue"]));
    expect(new Set(specs.flatMap((spec) => spec.node.unsafe))).toEqual(new Set(UNSAFE_FLAGS));
  });

  it.each(workloadFiles)("%s passes the schema and is named after its file", async (name) => {
    const loaded = await readWorkloadFile(join(projectRoot, "workloads", name));
    expect(loaded.spec.name).toBe(name.replace(/\.yaml$/, ""));
  });

  it.each(safeWorkloads)("%s runs VALID on the local runtime", async (name) => {
    const out = join(directory, name);
    const run = await runCli(["run", `workloads/${name}`, "--runtime", "local", "--duration", "6s", "--seed", "7", "--out", out]);
    const verdictLine = run.stdout.split("\n").find((line) => /: (VALID|INVALID|UNKNOWN) /.test(line));
    expect(verdictLine ?? `no verdict; stderr tail:\n${run.stderr.slice(-2000)}`).toMatch(/: VALID \(seed 7, local/);
    expect(run.code).toBe(0);
    expect(await summaryOf(out)).toMatchObject({ runtime: "local", valid: true });
  });

  // A bug shows only when faults and timing line up, so the claim is "within three seeded runs";
  // the first seed usually suffices. Each run is the file's own workload, at its own duration.
  it.each(unsafeWorkloads)(
    "%s is reported INVALID within three runs on the local runtime",
    async (name) => {
      const outcomes: string[] = [];
      for (const seed of [1, 2, 3]) {
        const out = join(directory, `${name}-${seed}`);
        const run = await runCli(["run", `workloads/${name}`, "--runtime", "local", "--seed", String(seed), "--out", out]);
        const verdictLine = run.stdout.split("\n").find((line) => /: (VALID|INVALID|UNKNOWN) /.test(line));
        outcomes.push(`seed ${seed}: exit ${run.code}, ${verdictLine ?? `no verdict; stderr tail: ${run.stderr.slice(-500)}`}`);
        if (run.code === 1) {
          expect(verdictLine).toMatch(/: INVALID \(/);
          expect(await summaryOf(out)).toMatchObject({ valid: false });
          return;
        }
      }
      expect.fail(`never INVALID:\n${outcomes.join("\n")}`);
    },
    300_000,
  );
});
