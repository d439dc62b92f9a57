// The local runtime's wiring, with stub nodes (testing/stub-node.ts) in place of Raft nodes: every
// ordered pair talks through its fault proxy, signals reach the processes, data directories survive
// restarts and logs are appended. The same runtime with real nodes is tested in
// test/integration/local-runtime.test.ts.
import { existsSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { RaftClient } from "../../../node/client/raft-client.js";
import { LocalRuntime, LocalRuntimeError } from "./local-runtime.js";
import type { Cluster } from "../runtime.js";
import { eventually, stubNodeCommand } from "../testing/stub-cluster.js";

const runId = `local-test-${process.pid}-${Date.now()}`;
const logDir = path.join(os.tmpdir(), `${runId}-logs`);

let cluster: Cluster;
let client: RaftClient;

interface StubStatus {
  heardFrom: number[];
  boots: number;
}

async function stubStatus(id: number): Promise<StubStatus> {
  return (await client.status(id, { timeoutMs: 1000 })) as unknown as StubStatus;
}

async function hears(listener: number, speaker: number): Promise<boolean> {
  return (await stubStatus(listener)).heardFrom.includes(speaker);
}

beforeAll(async () => {
  const runtime = new LocalRuntime(stubNodeCommand());
  cluster = await runtime.createCluster({ runId, nodeIds: [1, 2, 3], plugin: "kv", unsafe: [], logDir });
  client = new RaftClient({ nodes: cluster.nodes, requestTimeoutMs: 2000 });
});

afterAll(async () => {
  client?.close();
  await cluster?.destroy();
  rmSync(logDir, { recursive: true, force: true });
});

describe("LocalRuntime (stub nodes)", () => {
  test("every node hears every other through the proxies", async () => {
    for (const listener of [1, 2, 3]) {
      await eventually(async () => (await stubStatus(listener)).heardFrom.length === 2, `node ${listener} to hear both peers`);
    }
  });

  test("block(1, 2) silences 1 -> 2 only; heal restores it", async () => {
    await cluster.network.block(1, 2);
    await eventually(async () => !(await hears(2, 1)), "node 2 to stop hearing node 1");
    expect(await hears(1, 2)).toBe(true);
    expect(await hears(2, 3)).toBe(true);
    await cluster.network.heal();
    await eventually(() => hears(2, 1), "node 2 to hear node 1 again");
  });

  test("loss 1.0 into node 3 cuts everything it receives from peers; heal restores it", async () => {
    await cluster.network.loss([3], 1);
    await eventually(async () => (await stubStatus(3)).heardFrom.length === 0, "node 3 to hear nobody");
    expect(await hears(1, 3)).toBe(true);
    await cluster.network.heal();
    await eventually(async () => (await stubStatus(3)).heardFrom.length === 2, "node 3 to hear both peers again");
  });

  test("the local runtime says it can inject every network fault, before and after creating a cluster", async () => {
    expect(await new LocalRuntime().networkCapabilities()).toEqual({ block: true, loss: true, latency: true, bandwidth: true });
    expect(await cluster.network.capabilities()).toEqual({ block: true, loss: true, latency: true, bandwidth: true });
  });

  test("latency is supported locally and traffic still flows", async () => {
    await cluster.network.latency([1], 50, 10);
    await eventually(() => hears(2, 1), "node 2 to hear node 1 through the delay");
    await cluster.network.heal();
  });

  test("bandwidth is supported locally and traffic still flows, paced", async () => {
    await cluster.network.bandwidth([1], 64_000);
    await eventually(async () => (await hears(2, 1)) && (await hears(3, 1)), "nodes 2 and 3 to hear node 1 through the throttle");
    await cluster.network.heal();
  });

  test("kill and start keep the data directory; the log is appended across restarts", async () => {
    const bootsBefore = (await stubStatus(3)).boots;
    await cluster.kill(3);
    // The client may still hold its old connection when the kill lands, so either error is right.
    const refused = await client.status(3, { timeoutMs: 500 }).catch((error: unknown) => error);
    expect(["CONNECTION_FAILED", "CONNECTION_LOST"]).toContain((refused as { code?: unknown }).code);
    await cluster.start(3);
    expect((await stubStatus(3)).boots).toBe(bootsBefore + 1);
    const log = readFileSync(cluster.logPath(3), "utf8");
    expect(log.match(/local runtime: starting node/g)).toHaveLength(2);
    expect(log).toMatch(/"msg":"local runtime: node exited".*"signal":"SIGKILL"/);
  });

  test("pause stops answers until resume", async () => {
    await cluster.pause(2);
    await expect(client.status(2, { timeoutMs: 300 })).rejects.toMatchObject({ code: "REQUEST_TIMEOUT" });
    await cluster.resume(2);
    expect((await stubStatus(2)).boots).toBeGreaterThanOrEqual(1);
  });

  test("stop ends the node with SIGTERM", async () => {
    await cluster.stop(1);
    expect(readFileSync(cluster.logPath(1), "utf8")).toMatch(/stub node stopping on SIGTERM/);
    await cluster.start(1);
    await eventually(() => hears(2, 1), "node 2 to hear the restarted node 1");
  });

  test("exec runs on the host", async () => {
    expect(await cluster.exec(1, [process.execPath, "-e", "process.stdout.write('on host')"])).toEqual({ exitCode: 0, stdout: "on host", stderr: "" });
  });

  test("unknown node ids are refused with a clear error", async () => {
    await expect(cluster.kill(9)).rejects.toMatchObject({ code: "UNKNOWN_NODE" });
    await expect(cluster.network.block(1, 9)).rejects.toMatchObject({ code: "UNKNOWN_NODE" });
  });
});

describe("LocalRuntime without a build", () => {
  test("names the missing node entry", async () => {
    const runtime = new LocalRuntime({ cliPath: path.join(os.tmpdir(), "no-such-raftlab", "bin", "raftlab-node.js") });
    const error = await runtime.createCluster({ runId: `${runId}-nobuild`, nodeIds: [1], plugin: "kv", unsafe: [], logDir }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LocalRuntimeError);
    expect(error).toMatchObject({ code: "NOT_BUILT" });
    expect((error as Error).message).toMatch(/bin\/raftlab-node\.js does not exist: run `npm run build`/);
  });

  test("destroy removes the data directories", async () => {
    const runtime = new LocalRuntime(stubNodeCommand());
    const small = await runtime.createCluster({ runId: `${runId}-small`, nodeIds: [1], plugin: "kv", unsafe: [], logDir });
    const dataRoot = path.join(os.tmpdir(), `raftlab-${runId}-small`);
    expect(existsSync(path.join(dataRoot, "n1", "boots"))).toBe(true);
    await small.destroy();
    await small.destroy();
    expect(existsSync(dataRoot)).toBe(false);
  });
});
