// What a client hears when its request cannot complete: an isolated leader answers TIMEOUT
// (indeterminate: the entry may still commit) at the request deadline, then steps down
// (CheckQuorum) and answers NOT_LEADER (definite: nothing proposed).
import { afterAll, beforeAll, expect, it } from "vitest";
import { TestCluster, waitFor } from "./cluster-helpers.js";

let cluster: TestCluster;

beforeAll(async () => {
  // Long election timeouts (3-6 s) keep the isolated leader in office past the 1 s deadline.
  cluster = await TestCluster.create({ size: 3, flags: ["--election-ticks", "300", "--request-timeout-ms", "1000"] });
});

afterAll(async () => {
  await cluster?.destroy();
});

it("an isolated leader answers TIMEOUT at the deadline, then NOT_LEADER once it steps down", async () => {
  const leader = await cluster.waitForLeader(20_000);
  await cluster.put("k", "1");
  for (const id of [1, 2, 3].filter((id) => id !== leader)) {
    await cluster.kill(id);
  }
  const [command, read] = await Promise.all([
    cluster.request(leader, { type: "command", op: { f: "put", key: "k", value: "2" } }),
    cluster.request(leader, { type: "read", op: { f: "get", key: "k", value: null } }),
  ]);
  expect(command).toMatchObject({ ok: false, code: "TIMEOUT" });
  expect(read).toMatchObject({ ok: false, code: "TIMEOUT" });
  const notLeader = await waitFor("the isolated leader to step down", 15_000, async () => {
    const response = await cluster.request(leader, { type: "command", op: { f: "put", key: "k", value: "3" } });
    return !response.ok && response.code === "NOT_LEADER" ? response : undefined;
  });
  expect(notLeader).toMatchObject({ ok: false, code: "NOT_LEADER" });
});
