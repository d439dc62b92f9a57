// Nothing is left behind: SIGTERM/SIGINT to the harness removes its run's Docker objects, and
// `raftlab clean` removes what a SIGKILLed harness left.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { removeLeftovers } from "../../harness/runtime/docker/leftovers.js";
import { labelledObjects, requireDocker, skipDocker, uniqueRunId } from "./docker-test-support.js";

const projectRoot = fileURLToPath(new URL("../..", import.meta.url));

function startHolder(runId: string, logDir: string): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, ["--import", "tsx", "test/docker/fixtures/hold-cluster.ts", runId, logDir], {
    cwd: projectRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.includes(`ready ${runId}`)) {
        resolve();
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.on("exit", (code) => reject(new Error(`the cluster holder exited (${code ?? "signal"}) before it was ready:\n${output}`)));
  });
  return { child, ready };
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

function runCli(argv: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "cli/raftlab.ts", ...argv], { cwd: projectRoot, stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout }));
  });
}

describe.skipIf(skipDocker)("cleaning up Docker objects", () => {
  let docker: Docker;
  let logDir: string;
  const terminatedRun = uniqueRunId("sigterm");
  const killedRun = uniqueRunId("sigkill");

  beforeAll(async () => {
    docker = await requireDocker();
    logDir = await mkdtemp(join(tmpdir(), "raftlab-docker-cleanup-"));
  });

  afterAll(async () => {
    // Whatever a failed test left.
    for (const runId of [terminatedRun, killedRun]) {
      await removeLeftovers(docker, { runId });
    }
    await rm(logDir, { recursive: true, force: true });
  });

  test("SIGTERM to the harness removes its containers, network and volumes, SIGKILL leaves them to `raftlab clean`", async () => {
    const terminated = startHolder(terminatedRun, join(logDir, "a"));
    const killed = startHolder(killedRun, join(logDir, "b"));
    await Promise.all([terminated.ready, killed.ready]);
    expect(await labelledObjects(docker, terminatedRun)).toHaveLength(5);
    expect(await labelledObjects(docker, killedRun)).toHaveLength(5);

    const terminatedExit = exitOf(terminated.child);
    terminated.child.kill("SIGTERM");
    expect(await terminatedExit).toEqual({ code: 143, signal: null });
    expect(await labelledObjects(docker, terminatedRun)).toEqual([]);

    const killedExit = exitOf(killed.child);
    killed.child.kill("SIGKILL");
    expect(await killedExit).toEqual({ code: null, signal: "SIGKILL" });
    expect(await labelledObjects(docker, killedRun)).toHaveLength(5);

    const clean = await runCli(["clean", "--run", killedRun]);
    expect(clean.code).toBe(0);
    const lines = clean.stdout.trim().split("\n");
    expect(lines.slice(0, -1).sort()).toEqual([
      `removed container raftlab-${killedRun}-n1`,
      `removed container raftlab-${killedRun}-n2`,
      `removed network raftlab-${killedRun}`,
      `removed volume raftlab-${killedRun}-n1`,
      `removed volume raftlab-${killedRun}-n2`,
    ]);
    expect(lines.at(-1)).toBe("raftlab clean: removed 2 containers, 1 network, 2 volumes");
    expect(await labelledObjects(docker, killedRun)).toEqual([]);
  });
});
