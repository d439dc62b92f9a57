// Membership changes on real processes: add a node started with --join, remove a follower, then
// remove the leader itself.
import { afterAll, beforeAll, expect, it } from "vitest";
import { TestCluster, waitFor } from "./cluster-helpers.js";

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.create({ size: 3 });
});

afterAll(async () => {
  await cluster?.destroy();
});

it("adds a fourth node with --join, which catches up and can lead", async () => {
  await cluster.put("before-join", "1");
  const joiner = await cluster.addJoiner(4);
  const leader = await cluster.waitForLeader(10_000, [1, 2, 3]);
  const added = await cluster.request(leader, {
    type: "addMember",
    nodeId: 4,
    peerAddress: joiner.peerAddress,
    clientAddress: joiner.clientAddress,
  });
  expect(added).toMatchObject({ ok: true, result: { voters: [1, 2, 3, 4] } });
  const commit = (await cluster.status(leader))!.commit;
  await waitFor("node 4 to catch up", 10_000, async () => {
    const status = await cluster.status(4);
    return status !== undefined && status.applied >= commit && status.voters.length === 4 ? true : undefined;
  });
  await cluster.makeLeader(4);
  expect(await cluster.get("before-join")).toBe("1");
});

it("removes a follower and then the leader itself, and keeps serving", async () => {
  let leader = await cluster.waitForLeader();
  const follower = [1, 2, 3, 4].find((id) => id !== leader)!;
  const removed = await cluster.request(leader, { type: "removeMember", nodeId: follower });
  expect(removed.ok).toBe(true);
  expect((await cluster.status(leader))?.voters).not.toContain(follower);
  await cluster.kill(follower);
  await cluster.put("after-remove", "1");

  leader = await cluster.waitForLeader();
  const removedLeader = await cluster.request(leader, { type: "removeMember", nodeId: leader });
  expect(removedLeader.ok).toBe(true);
  const remaining = [1, 2, 3, 4].filter((id) => id !== follower && id !== leader);
  const newLeader = await cluster.waitForLeader(10_000, remaining);
  expect(remaining).toContain(newLeader);
  expect((await cluster.status(newLeader))?.voters).toEqual(remaining);
  await cluster.kill(leader);
  await cluster.put("after-leader-removed", "1");
  expect(await cluster.get("before-join")).toBe("1");
  expect(await cluster.get("after-remove")).toBe("1");
});
