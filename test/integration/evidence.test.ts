// Evidence a run leaves, end to end on the local runtime through the built CLI: the `replicas`
// check catches a nondeterministic plugin whose reads stay linearizable; an INVALID run keeps its
// nodes' data directories and `raftlab wal dump` reads them; a valid run drops them; and
// `clients.retries: false` records indeterminate outcomes as `info` while the verdict is decided.
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { interruptRuns, requireBuiltCli, runCli, summaryOf } from "../support/run-cli.js";

let directory: string;
beforeAll(async () => {
  requireBuiltCli();
  directory = await mkdtemp(join(tmpdir(), "raftlab-evidence-"));
});
afterEach(interruptRuns);
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function workload(name: string, lines: string[]): Promise<string> {
  const path = join(directory, `${name}.yaml`);
  await writeFile(path, lines.join("\n"));
  return path;
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("run evidence (local runtime)", () => {
  it("a nondeterministic plugin: replicas diverged, linearizable reads, data directories kept and readable by wal dump", async () => {
    const path = await workload("nondeterministic", [
      "name: nondeterministic",
      "plugin: ./plugins/examples/nondeterministic-counter.ts",
      "nodes: 3",
      "duration: 3s",
      "clients: { concurrency: 3, timeout: 1s }",
      "final: { recovery: 1s }",
      "node: { snapshot_every: 200 }",
    ]);
    const out = join(directory, "nondeterministic-out");
    const run = await runCli(["run", path, "--runtime", "local", "--seed", "3", "--out", out]);
    expect(run.code).toBe(1);
    const summary = await summaryOf(out);
    const checks = summary["checks"] as Record<string, { valid: unknown; reason?: string; index?: number; replicas?: unknown[] }>;
    expect(checks["linearizable"]?.valid).toBe(true);
    expect(checks["replicas"]?.valid).toBe(false);
    expect(checks["replicas"]?.reason).toMatch(/^replicas diverged at index \d+: n1 [0-9a-f]{12}\.\.\., n2 [0-9a-f]{12}\.\.\., n3 [0-9a-f]{12}\.\.\. /);
    expect(checks["replicas"]?.replicas).toHaveLength(3);
    expect(summary["caught_by"]).toBe("replicas");
    expect(summary["explanation"]).toMatch(/the nodes' state machines differed: replicas diverged at index/);
    expect(summary["node_data"]).toEqual(["nodes/1/data", "nodes/2/data", "nodes/3/data"]);
    expect((await readdir(join(out, "nodes", "1", "data"))).sort()).toContain("wal");

    const dump = await runCli(["wal", "dump", join(out, "nodes", "1", "data"), "--plugin", "counter"]);
    expect(dump.stderr).toBe("");
    expect(dump.code).toBe(0);
    const lines = jsonLines(dump.stdout);
    const kinds = new Set(lines.map((line) => line["kind"]));
    expect([...kinds].filter((kind) => ["segment", "entry", "hard_state_record", "hard_state", "summary"].includes(kind as string)).sort()).toEqual([
      "entry",
      "hard_state",
      "hard_state_record",
      "segment",
      "summary",
    ]);
    const snapshot = lines.find((line) => line["kind"] === "snapshot");
    expect(snapshot).toMatchObject({ file: expect.stringMatching(/^snap\/\d{16}-\d+\.snap$/) as unknown, voters: [1, 2, 3] });
    expect(snapshot?.["sha256"]).toMatch(/^[0-9a-f]{64}$/);
    expect(snapshot?.["index"]).toBeGreaterThanOrEqual(200);
    const add = lines.find((line) => line["kind"] === "entry" && (line["command"] as { op?: { f?: string } } | undefined)?.op?.f === "add");
    expect(add).toMatchObject({ type: "normal", command: { op: { f: "add" } }, text: expect.stringMatching(/^add /) as unknown });
    const hardState = lines.find((line) => line["kind"] === "hard_state");
    expect(hardState?.["commit"]).toBeGreaterThanOrEqual(checks["replicas"]?.index ?? Infinity);
    expect(lines.at(-1)).toMatchObject({ kind: "summary", torn_tails: 0, corrupt: 0 });
    // The bootstrap configuration is the log's first entries: one addNode per voter.
    expect(lines.filter((line) => line["kind"] === "entry" && line["type"] === "confChange").slice(0, 3)).toMatchObject([
      { index: 1, conf_change: { type: "addNode", node_id: 1 } },
      { index: 2, conf_change: { type: "addNode", node_id: 2 } },
      { index: 3, conf_change: { type: "addNode", node_id: 3 } },
    ]);
  });

  it("retries: false records indeterminate outcomes as info under partitions, keeps a decided verdict, and drops valid runs' data", async () => {
    const path = await workload("no-retries", [
      "name: no-retries",
      "plugin: kv",
      "nodes: 3",
      "duration: 6s",
      "clients: { concurrency: 2n, timeout: 500ms, keys: 3, retries: false }",
      "nemesis: { interval: 1s, faults: [partition-leader] }",
      "final: { recovery: 2s }",
    ]);
    const out = join(directory, "no-retries-out");
    const run = await runCli(["run", path, "--runtime", "local", "--seed", "11", "--out", out]);
    const summary = await summaryOf(out);
    const total = (summary["ops"] as { total: { info: number } }).total;
    expect(total.info).toBeGreaterThan(0);
    expect(summary["valid"]).toBe(true);
    expect(run.code).toBe(0);
    expect((summary["checks"] as Record<string, { valid: unknown }>)["replicas"]?.valid).toBe(true);
    expect(summary["node_data"]).toEqual([]);
    expect((await readdir(join(out, "nodes"))).sort()).toEqual(["node-1.log", "node-2.log", "node-3.log"]);
  });

  it("wal dump refuses a directory that is not a node's data directory with exit 254, naming it", async () => {
    const missing = join(directory, "no-such-dir");
    const run = await runCli(["wal", "dump", missing]);
    expect(run.code).toBe(254);
    expect(run.stderr).toBe(`raftlab wal dump: ${missing}: no such directory\n`);
    const notData = await runCli(["wal", "dump", directory]);
    expect(notData.code).toBe(254);
    expect(notData.stderr).toBe(`raftlab wal dump: ${directory}: not a node data directory (it has neither wal/ nor snap/)\n`);
  });
});
