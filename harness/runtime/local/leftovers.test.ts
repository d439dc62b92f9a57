import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findLocalNodeProcesses, localNodeOf, removeLocalLeftovers } from "./leftovers.js";

let temporary: string;
const started: number[] = [];

beforeEach(async () => {
  temporary = await mkdtemp(path.join(os.tmpdir(), "leftovers-test-"));
});
afterEach(async () => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
  await rm(temporary, { recursive: true, force: true });
});

/** A process whose command line looks like a local raftlab node of run `runId` (it only sleeps). */
async function fakeNode(runId: string, options: { orphan: boolean }): Promise<number> {
  const dataDir = path.join(temporary, `raftlab-${runId}`, "n1");
  await mkdir(dataDir, { recursive: true });
  const argv = ["-e", "setInterval(() => {}, 1000)", "/x/bin/raftlab-node.js", "--id", "1", "--data", dataDir, "--cluster-id", runId];
  if (!options.orphan) {
    const child = spawn(process.execPath, argv, { stdio: "ignore" });
    started.push(child.pid!);
    return child.pid!;
  }
  // Started by a shell that exits at once: the node is adopted by init, as after a harness's SIGKILL.
  const quoted = [process.execPath, ...argv].map((arg) => `'${arg}'`).join(" ");
  const shell = spawn("sh", ["-c", `${quoted} >/dev/null 2>&1 & echo $!`], { stdio: ["ignore", "pipe", "ignore"] });
  let output = "";
  shell.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await new Promise((resolve) => shell.once("close", resolve));
  const pid = Number(output.trim());
  started.push(pid);
  return pid;
}

async function waitUntilFound(pid: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if ((await findLocalNodeProcesses(temporary)).some((node) => node.pid === pid)) {
      return;
    }
    await sleep(20);
  }
  throw new Error(`process ${pid} never showed up as a local node`);
}

describe("local leftovers", () => {
  it("recognises node command lines whose data lives in a local run's directory", () => {
    expect(localNodeOf(["node", "/a/bin/raftlab-node.js", "--data", "/t/raftlab-r1/n2", "--cluster-id", "r1"], "/t")).toEqual({
      dataRoot: "/t/raftlab-r1",
      clusterId: "r1",
    });
    expect(localNodeOf(["node", "/a/dist/cli/raftlab.js", "node", "--data=/t/raftlab-r2/n1"], "/t")).toEqual({ dataRoot: "/t/raftlab-r2", clusterId: undefined });
    expect(localNodeOf(["node", "/a/bin/raftlab-node.js", "--data", "/srv/data/n1"], "/t")).toBeUndefined();
    expect(localNodeOf(["node", "server.js", "--data", "/t/raftlab-r1/n1"], "/t")).toBeUndefined();
  });

  it("kills orphaned nodes and removes unused data directories, sparing a run in progress and other directories", async () => {
    const orphan = await fakeNode("orphaned", { orphan: true });
    const live = await fakeNode("in-progress", { orphan: false });
    await mkdir(path.join(temporary, "raftlab-abandoned", "n1"), { recursive: true });
    await writeFile(path.join(temporary, "raftlab-abandoned", "cluster-secret"), "secret\n");
    await mkdir(path.join(temporary, "raftlab-running-all-killed", "n1"), { recursive: true });
    await writeFile(path.join(temporary, "raftlab-running-all-killed", "harness.pid"), `${process.pid}\n`);
    await mkdir(path.join(temporary, "raftlab-someone-elses"), { recursive: true });
    await writeFile(path.join(temporary, "raftlab-someone-elses", "notes.txt"), "not a run\n");
    await waitUntilFound(orphan);
    await waitUntilFound(live);

    const removed: string[] = [];
    const report = await removeLocalLeftovers({ temporaryDirectory: temporary, onRemoved: (what) => removed.push(what) });
    expect(report.failures).toEqual([]);
    expect(report.processes).toEqual([orphan]);
    expect(report.directories.map((directory) => path.basename(directory)).sort()).toEqual(["raftlab-abandoned", "raftlab-orphaned"]);
    expect((await readdir(temporary)).sort()).toEqual(["raftlab-in-progress", "raftlab-running-all-killed", "raftlab-someone-elses"]);
    expect(() => process.kill(live, 0)).not.toThrow();

    // Named, a run in progress goes too.
    const named = await removeLocalLeftovers({ temporaryDirectory: temporary, runId: "in-progress" });
    expect([named.processes, named.failures]).toEqual([[live], []]);
    expect((await readdir(temporary)).sort()).toEqual(["raftlab-running-all-killed", "raftlab-someone-elses"]);
  });
});
