// Crashes with real processes: kill -9 of the leader, a follower that restarts and catches up from
// the log, and one that catches up by snapshot after the leader compacted its log.
import { afterEach, expect, it } from "vitest";
import { logRecords, tearDownCluster, TestCluster, waitFor } from "./cluster-helpers.js";

let cluster: TestCluster | undefined;

afterEach(async (context) => {
  cluster = await tearDownCluster(cluster, context.task.result?.state === "fail");
});

async function appliedEverywhere(c: TestCluster, ids: number[]): Promise<void> {
  const leader = await c.waitForLeader();
  const commit = (await c.status(leader))!.commit;
  await waitFor(`nodes ${ids.join(",")} to apply up to ${commit}`, 15_000, async () => {
    const statuses = await Promise.all(ids.map((id) => c.status(id)));
    return statuses.every((s) => s !== undefined && s.applied >= commit) ? true : undefined;
  });
}

it("after kill -9 of the leader a new leader is elected and no acknowledged write is lost", async () => {
  cluster = await TestCluster.create({ size: 3 });
  const acknowledged = new Map<string, string>();
  for (let k = 0; k < 30; k++) {
    await cluster.put(`k${k}`, `v${k}`);
    acknowledged.set(`k${k}`, `v${k}`);
  }
  const oldLeader = await cluster.waitForLeader();
  await cluster.kill(oldLeader);
  const newLeader = await cluster.waitForLeader(10_000);
  expect(newLeader).not.toBe(oldLeader);
  for (const [key, value] of acknowledged) {
    expect(await cluster.get(key)).toBe(value);
  }
  await cluster.put("after-failover", "ok");
  await cluster.start(oldLeader);
  await appliedEverywhere(cluster, [1, 2, 3]);
});

it("a follower killed and restarted catches up from the leader's log", async () => {
  cluster = await TestCluster.create({ size: 3 });
  await cluster.put("before", "1");
  const leader = await cluster.waitForLeader();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  await cluster.kill(follower);
  for (let k = 0; k < 50; k++) {
    await cluster.put(`while-down-${k}`, String(k));
  }
  await cluster.start(follower);
  await appliedEverywhere(cluster, [1, 2, 3]);
  const records = logRecords(cluster.node(follower).output);
  expect(records.some((r) => r.msg === "installed a snapshot from the leader")).toBe(false);
  // The follower can serve the data once it leads.
  await cluster.makeLeader(follower);
  expect(await cluster.get("while-down-49")).toBe("49");
});

it("a follower restarted after the leader compacted its log catches up by snapshot", async () => {
  cluster = await TestCluster.create({ size: 3, flags: ["--snapshot-every", "100"] });
  await cluster.put("before", "1");
  const leader = await cluster.waitForLeader();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  await cluster.kill(follower);
  for (let k = 0; k < 250; k++) {
    await cluster.put(`compacted-${k % 50}`, String(k));
  }
  // Snapshots are serialised in slices over later turns of the leader's loop: wait for the line.
  const leaderNode = cluster.node(leader);
  await waitFor("the leader's snapshot", 20_000, async () =>
    logRecords(leaderNode.output).some((r) => r.msg === "took a snapshot and compacted the log") ? true : undefined,
  );
  await cluster.start(follower);
  await appliedEverywhere(cluster, [1, 2, 3]);
  const followerLog = logRecords(cluster.node(follower).output);
  expect(followerLog.some((r) => r.msg === "installed a snapshot from the leader")).toBe(true);
  await cluster.makeLeader(follower);
  expect(await cluster.get("compacted-49")).toBe("249");
  expect(await cluster.get("before")).toBe("1");
});

it("a node stops gracefully on SIGTERM with exit code 0 and restarts with its data", async () => {
  cluster = await TestCluster.create({ size: 3 });
  await cluster.put("durable", "yes");
  const leader = await cluster.waitForLeader();
  expect(await cluster.stop(leader)).toBe(0);
  expect(logRecords(cluster.node(leader).output).some((r) => r.msg === "stopped")).toBe(true);
  await cluster.waitForLeader();
  await cluster.start(leader);
  await appliedEverywhere(cluster, [1, 2, 3]);
  expect(await cluster.get("durable")).toBe("yes");
});
