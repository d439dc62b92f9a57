// End-to-end runs of `raftlab run` through the built CLI on the local runtime: real node processes,
// real fault proxies, the real checker. `npm test` builds dist/ before vitest runs.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { requireBuiltCli, interruptRuns, runCli, summaryOf } from "../support/run-cli.js";

const execFileAsync = promisify(execFile);

let directory: string;
beforeAll(async () => {
  requireBuiltCli();
  directory = await mkdtemp(join(tmpdir(), "raftlab-run-local-"));
});
afterEach(interruptRuns);
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function workload(name: string, yaml: string): Promise<string> {
  const path = join(directory, `${name}.yaml`);
  await writeFile(path, yaml);
  return path;
}

describe("raftlab run (local runtime)", () => {
  it("refuses a bad workload with exit 254, naming the file, line and field", async () => {
    const path = await workload("bad", "name: bad\nnemesis:\n  faults: [partiton]\n");
    const run = await runCli(["run", path, "--runtime", "local"]);
    expect(run.code).toBe(254);
    expect(run.stderr).toMatch(
      new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:3: nemesis\\.faults\\[0\\]: unknown fault "partiton"; known: partition-halves,`, "m"),
    );
  });

  it("runs a short kv workload with partitions and kills to a valid verdict and writes the results folder", async () => {
    const path = await workload(
      "short-valid",
      [
        "name: short-valid",
        "plugin: kv",
        "nodes: 3",
        "duration: 6s",
        "clients: { concurrency: 2n, timeout: 1s, keys: 3 }",
        "nemesis: { interval: 1s, faults: [partition-leader, kill] }",
        "final: { recovery: 2s }",
      ].join("\n"),
    );
    const out = join(directory, "valid-out");
    const run = await runCli(["run", path, "--runtime", "local", "--seed", "7", "--out", out]);
    expect(run.stdout).toMatch(/^short-valid: VALID \(seed 7, local, 3 node\(s\), [\d.]+ s\)$/m);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/\] main +ok \d+ fail \d+ info \d+ \| fault: /);
    expect((await readdir(out)).sort()).toEqual(["history.jsonl", "linearizability.html", "nodes", "report.html", "summary.json", "workload.yaml"]);
    expect((await readdir(join(out, "nodes"))).sort()).toEqual(["node-1.log", "node-2.log", "node-3.log"]);
    const summary = await summaryOf(out);
    expect(summary).toMatchObject({ name: "short-valid", seed: 7, runtime: "local", plugin: "kv", nodes: 3, valid: true, exit_code: 0 });
    expect(Object.keys(summary["checks"] as object)).toEqual(["linearizable", "stats", "perf", "nemesis", "appends", "replicas", "node-logs", "availability"]);
    expect((summary["faults"] as unknown[]).length).toBeGreaterThan(0);
    expect(await readFile(join(out, "workload.yaml"), "utf8")).toMatch(/^seed: 7$/m);
  });

  it("reports a node serving stale reads as invalid", async () => {
    const path = await workload(
      "short-unsafe",
      [
        "name: short-unsafe",
        "plugin: kv",
        "nodes: 3",
        "duration: 8s",
        "clients: { concurrency: 2n, timeout: 1s, keys: 1, mix: { get: 0.7, put: 0.3 } }",
        "nemesis: { interval: 1s, faults: [partition-leader, partition-one] }",
        "final: { recovery: 2s }",
        "node: { unsafe: [stale-reads] }",
      ].join("\n"),
    );
    const out = join(directory, "unsafe-out");
    const run = await runCli(["run", path, "--runtime", "local", "--out", out]);
    expect(run.stdout).toMatch(/^short-unsafe: INVALID /m);
    expect(run.code).toBe(1);
    const summary = await summaryOf(out);
    expect(summary).toMatchObject({ valid: false, exit_code: 1, checks: { linearizable: { valid: false, verdict: "illegal" } } });
    expect(await readFile(join(out, "report.html"), "utf8")).toMatch(/<span class="badge invalid" id="verdict">INVALID<\/span>/);
  });

  it("destroys the cluster and exits 255 on SIGINT", async () => {
    const path = await workload("interrupted", "name: interrupted\nplugin: kv\nduration: 60s\nclients: { concurrency: 2 }\n");
    const out = join(directory, "interrupted-out");
    let sent = false;
    const run = await runCli(["run", path, "--runtime", "local", "--out", out], {
      onStderr: (text, send) => {
        if (!sent && /\] main +ok [1-9]/.test(text)) {
          sent = true;
          send("SIGINT");
        }
      },
    });
    expect(sent, `the run ended (exit ${String(run.code)}) before any ok operation:\n${run.stderr}`).toBe(true);
    expect(run.code).toBe(255);
    expect(run.stderr).toMatch(/SIGINT: stopping, destroying the cluster/);
    // The runtime logs each node's command line, with the run's cluster id, into the node's log.
    const firstLine = (await readFile(join(out, "nodes", "node-1.log"), "utf8")).split("\n")[0] ?? "";
    const clusterId = /"--cluster-id","([^"]+)"/.exec(firstLine)?.[1];
    expect(clusterId).toBeDefined();
    const { stdout } = await execFileAsync("ps", ["-eo", "args"]);
    expect(stdout.split("\n").filter((line) => line.includes(`--cluster-id ${clusterId ?? "?"}`))).toEqual([]);
  });
});
