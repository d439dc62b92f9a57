// The unsafe switches exist for the checker's self-tests: they must really break the guarantees
// they name, and say so loudly in the log.
import { afterEach, expect, it } from "vitest";
import { logRecords, TestCluster } from "./cluster-helpers.js";

let cluster: TestCluster | undefined;

afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

it("stale-reads serves reads from any node's local state, without ReadIndex", async () => {
  cluster = await TestCluster.create({ size: 3, flags: ["--unsafe", "stale-reads"] });
  await cluster.put("k", "v");
  const leader = await cluster.waitForLeader();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  const response = await cluster.request(follower, { type: "read", op: { f: "get", key: "absent", value: null } });
  expect(response).toMatchObject({ ok: true, result: null });
  const warning = logRecords(cluster.node(follower).output).find((r) => String(r.msg).startsWith("UNSAFE MODE"));
  expect(warning).toMatchObject({ level: "warn", unsafe: ["stale-reads"] });
});

it("ack-before-commit acknowledges a write that cannot commit", async () => {
  // Long election timeouts keep the isolated leader in office while the write is sent.
  cluster = await TestCluster.create({ size: 3, flags: ["--unsafe", "ack-before-commit", "--election-ticks", "300"] });
  const leader = await cluster.waitForLeader(20_000);
  await cluster.put("k", "committed");
  for (const id of [1, 2, 3].filter((id) => id !== leader)) {
    await cluster.kill(id);
  }
  const response = await cluster.request(leader, { type: "command", op: { f: "put", key: "k", value: "never-committed" } });
  expect(response).toMatchObject({ ok: true, result: null });
  const status = await cluster.status(leader);
  expect(status!.commit).toBeLessThan(status!.lastIndex); // acknowledged, yet not committed
});

it("apply-uncommitted applies and acknowledges a write that cannot commit", async () => {
  cluster = await TestCluster.create({ size: 3, flags: ["--unsafe", "apply-uncommitted", "--election-ticks", "300"] });
  const leader = await cluster.waitForLeader(20_000);
  await cluster.put("k", "committed");
  for (const id of [1, 2, 3].filter((id) => id !== leader)) {
    await cluster.kill(id);
  }
  const response = await cluster.request(leader, { type: "command", op: { f: "put", key: "k", value: "never-committed" } });
  expect(response).toMatchObject({ ok: true, result: null });
  const status = await cluster.status(leader);
  expect(status!.commit).toBeLessThan(status!.lastIndex); // applied, yet not committed
});
