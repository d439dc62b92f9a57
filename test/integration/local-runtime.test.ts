// End to end through the local runtime: a real 3-node kv cluster (bin/raftlab-node.js) behind
// the per-pair fault proxies, driven by RaftClient and the nemesis catalogue. `npm test` builds
// dist/ first; run `npm run build` before running this file alone.
import { existsSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { RaftClient, type ClientOutcome } from "../../node/client/raft-client.js";
import { SeededRng } from "../../lib/rng.js";
import { createNemesis } from "../../harness/nemesis/catalogue.js";
import { createNemesisContext, type NemesisContext } from "../../harness/nemesis/nemesis.js";
import { LocalRuntime } from "../../harness/runtime/local/local-runtime.js";
import type { Cluster } from "../../harness/runtime/runtime.js";
import { eventually } from "../../harness/runtime/testing/stub-cluster.js";

const cliPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "raftlab-node.js");
const runId = `local-runtime-it-${process.pid}-${Date.now()}`;
const nodeIds = [1, 2, 3];
const logDir = path.join(os.tmpdir(), `${runId}-logs`);
/** Set when a test fails: the node logs are then kept for a look. */
let keepLogs = false;

let cluster: Cluster;
let client: RaftClient;
let context: NemesisContext;

beforeAll(async () => {
  if (!existsSync(cliPath)) {
    throw new Error(`${cliPath} is missing: run \`npm run build\` first (npm test does it before vitest)`);
  }
  cluster = await new LocalRuntime({ cliPath }).createCluster({
    runId,
    nodeIds,
    plugin: "kv",
    unsafe: [],
    logDir,
  });
  client = new RaftClient({ nodes: cluster.nodes, secret: cluster.secret, requestTimeoutMs: 5000 });
  context = createNemesisContext({ client, rng: new SeededRng(11) });
});

afterEach((test) => {
  if (test.task.result?.state === "fail") {
    keepLogs = true;
  }
});

afterAll(async () => {
  client?.close();
  await cluster?.destroy();
  if (keepLogs) {
    process.stderr.write(`local-runtime test failed: node logs kept in ${logDir}\n`);
  } else {
    rmSync(logDir, { recursive: true, force: true });
  }
});

async function leaderAmong(candidates: readonly number[]): Promise<{ id: number; term: number }> {
  let found: { id: number; term: number } | undefined;
  await eventually(
    async () => {
      const statuses = await Promise.allSettled(candidates.map((id) => client.status(id, { timeoutMs: 500 })));
      for (const result of statuses) {
        if (result.status === "fulfilled" && result.value.role === "leader") {
          found = { id: result.value.nodeId, term: result.value.term };
          return true;
        }
      }
      return false;
    },
    `a leader among nodes ${candidates.join(", ")}`,
    20_000,
  );
  return found!;
}

function put(key: string, value: string): Promise<ClientOutcome> {
  return client.invoke({ f: "put", key, value }, { readOnly: false });
}

function get(key: string): Promise<ClientOutcome> {
  return client.invoke({ f: "get", key, value: null }, { readOnly: true });
}

describe("LocalRuntime with real nodes", () => {
  test("elects a leader and serves puts and gets", async () => {
    const leader = await leaderAmong(nodeIds);
    expect(await put("x", "1")).toMatchObject({ type: "ok", node: leader.id });
    expect(await put("y", "2")).toMatchObject({ type: "ok" });
    expect(await get("x")).toMatchObject({ type: "ok", value: "1" });
  });

  test("partition-leader isolates the leader; the majority elects another; heal reunites", async () => {
    const before = await leaderAmong(nodeIds);
    const nemesis = createNemesis({ name: "partition-leader" });
    const record = await nemesis.invoke(cluster, context);
    expect(record.value).toMatchObject({ isolated: before.id });
    const majority = nodeIds.filter((id) => id !== before.id);
    const after = await leaderAmong(majority);
    expect(after.id).not.toBe(before.id);
    expect(after.term).toBeGreaterThan(before.term);
    // The client finds the new leader by itself (the old one answers NOT_LEADER or times out).
    expect(await put("x", "during-partition")).toMatchObject({ type: "ok", node: after.id });

    await nemesis.heal(cluster);
    await eventually(
      async () => {
        const status = await client.status(before.id, { timeoutMs: 500 });
        return status.role === "follower" && status.term >= after.term && status.leader !== before.id && status.leader !== 0;
      },
      `old leader ${before.id} to follow the new leader`,
      20_000,
    );
    expect(await get("x")).toMatchObject({ type: "ok", value: "during-partition" });
  });

  test("kill -9 a node and restart it on the same data; it catches up", async () => {
    const leader = await leaderAmong(nodeIds);
    const victim = nodeIds.find((id) => id !== leader.id)!;
    await cluster.kill(victim);
    expect(await put("z", "while-down")).toMatchObject({ type: "ok" });
    await cluster.start(victim);
    await eventually(
      async () => {
        const [victimStatus, leaderStatus] = await Promise.all([client.status(victim, { timeoutMs: 500 }), client.status(leader.id, { timeoutMs: 500 })]);
        return victimStatus.applied >= leaderStatus.commit && victimStatus.leader !== 0;
      },
      `restarted node ${victim} to apply everything committed`,
      20_000,
    );
  });

  test("transfer-leader hands leadership to another voter", async () => {
    const before = await leaderAmong(nodeIds);
    const nemesis = createNemesis({ name: "transfer-leader" });
    const record = await nemesis.invoke(cluster, context);
    const to = (record.value as { to: number }).to;
    expect(record.value).toMatchObject({ from: before.id, outcome: "ok" });
    await eventually(async () => (await client.findLeader()) === to, `node ${to} to lead`, 20_000);
  });

  test("membership removes a follower and re-adds it on heal", async () => {
    const nemesis = createNemesis({ name: "membership" });
    const record = await nemesis.invoke(cluster, context);
    const removed = (record.value as { removed: number }).removed;
    expect(record.value).toMatchObject({ outcome: "ok" });
    const leader = await leaderAmong(nodeIds.filter((id) => id !== removed));
    expect((await client.status(leader.id)).voters).not.toContain(removed);
    expect(await put("m", "with-two-voters")).toMatchObject({ type: "ok" });

    expect(await nemesis.heal(cluster)).toMatchObject({ f: "heal", value: { added: removed } });
    await eventually(
      async () => (await client.status(removed, { timeoutMs: 500 })).voters.includes(removed),
      `node ${removed} to see itself as a voter again`,
      20_000,
    );
    expect(await get("m")).toMatchObject({ type: "ok", value: "with-two-voters" });
  });
});
