// `raftlab run --runtime docker` end to end, as CI runs it: real containers on an internal network,
// faults as iptables rules and kill -9 inside the containers, the real checker. A correct cluster
// must come out valid; a node with an unsafe switch on must come out with a decided verdict
// (how often it is invalid is a detection rate: npm run bench:detect).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireDocker, skipDocker } from "./docker-test-support.js";

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cliPath = join(projectRoot, "dist", "cli", "raftlab.js");

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[]): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }));
  });
}

async function summaryOf(out: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(out, "summary.json"), "utf8")) as Record<string, unknown>;
}

let directory: string;
beforeAll(async () => {
  if (skipDocker) return;
  await requireDocker();
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` first (npm test does)`);
  directory = await mkdtemp(join(tmpdir(), "raftlab-run-docker-"));
});
afterAll(async () => {
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});

describe.skipIf(skipDocker)("raftlab run (docker runtime)", () => {
  it("kv under partitions and kill -9 is valid", async () => {
    const out = join(directory, "kv-partitions");
    const run = await runCli(["run", "workloads/kv-partitions.yaml", "--runtime", "docker", "--duration", "8s", "--seed", "3", "--out", out]);
    expect(run.stdout).toMatch(/^kv-partitions: VALID \(seed 3, docker, 3 node\(s\)/m);
    expect(run.code).toBe(0);
    const summary = await summaryOf(out);
    expect(summary).toMatchObject({ runtime: "docker", valid: true, checks: { linearizable: { valid: true } } });
    expect((summary["faults"] as unknown[]).length).toBeGreaterThan(0);
  });

  it("kv under kill -9 of the leader and of random nodes is valid", async () => {
    const out = join(directory, "kv-kill");
    const run = await runCli(["run", "workloads/kv-kill.yaml", "--runtime", "docker", "--duration", "8s", "--seed", "5", "--out", out]);
    expect(run.code).toBe(0);
    expect(await summaryOf(out)).toMatchObject({ runtime: "docker", valid: true });
  });

  // Whether one run of a broken node shows the bug depends on timing: losing an acknowledged write
  // shows only when a read observes the loss before a retried write masks it, and a vote without
  // the log check matters only in some elections. How often runs catch it is a detection rate, for
  // a benchmark. What every run makes certain: the run ends with a decided verdict, its nodes ran
  // with the switch, its exit code says the verdict, and the verdict is a function of the recorded
  // history (re-checking history.jsonl offline gives the same linearizability verdict).
  it.each([
    ["unsafe-stale-reads", "stale-reads", 11],
    ["unsafe-ack-before-commit", "ack-before-commit", 11],
    ["unsafe-vote-without-log-check", "vote-without-log-check", 1],
  ])(
    "%s: the verdict is decided, and the recorded history reproduces it",
    async (workload, flag, seed) => {
      const out = join(directory, workload);
      const run = await runCli(["run", `workloads/${workload}.yaml`, "--runtime", "docker", "--seed", String(seed), "--out", out]);
      const summary = await summaryOf(out);
      expect(summary["unsafe"]).toEqual([flag]);
      expect(typeof summary["valid"], JSON.stringify(summary["checks"])).toBe("boolean");
      expect(run.code).toBe(summary["valid"] === true ? 0 : 1);
      expect(run.stdout).toMatch(new RegExp(`^${workload}: ${summary["valid"] === true ? "VALID" : "INVALID"} `, "m"));
      const linearizable = (summary["checks"] as Record<string, { valid?: unknown }>)["linearizable"]?.valid;
      expect(typeof linearizable).toBe("boolean");
      const recheck = await runCli(["check", join(out, "history.jsonl"), "--plugin", "kv"]);
      expect(recheck.code, recheck.stderr).toBe(linearizable === true ? 0 : 1);
      // One run of about 25 s, plus container start and teardown.
    },
    120_000,
  );
});
