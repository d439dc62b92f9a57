// Log compaction and InstallSnapshot claims (6.5840 3D, §7).
import { describe, expect, test } from "vitest";
import type { SimCluster } from "../cluster.js";
import { ELECTION_TICKS, UNRELIABLE, commit, expectConverged, ids, makeCluster, runTicks, waitForLeader } from "../testing/scenario.js";

function fill(cluster: SimCluster, prefix: string, count: number, appliedOn: readonly number[]): void {
  for (let i = 0; i < count; i++) {
    commit(cluster, `${prefix}-${i}`, { appliedOn, group: appliedOn, ticks: 40 * ELECTION_TICKS });
  }
}

describe("snapshots", () => {
  test("snapshot basic: every node compacts its log and the cluster keeps agreeing", () => {
    const cluster = makeCluster(3, { snapshotEvery: 10 });
    waitForLeader(cluster);
    fill(cluster, "basic", 35, ids(3));
    for (const id of ids(3)) {
      expect(cluster.node(id).snapshotIndex).toBeGreaterThanOrEqual(30);
      expect(cluster.raw(id).raft.log.firstIndex()).toBeGreaterThan(30);
    }
    expectConverged(cluster);
  });

  function laggingFollower(unreliable: boolean): void {
    const cluster = makeCluster(3, { snapshotEvery: 10, seed: unreliable ? 31 : 30 });
    const leader = waitForLeader(cluster);
    const follower = ids(3).find((id) => id !== leader) as number;
    cluster.network.isolate(follower, ids(3));
    fill(
      cluster,
      "lag",
      30,
      ids(3).filter((id) => id !== follower),
    );
    if (unreliable) {
      cluster.network.options = UNRELIABLE;
    }
    cluster.network.resetCounters();
    cluster.network.heal();
    runTicks(cluster, 20 * ELECTION_TICKS);
    cluster.network.options = { dropRate: 0, duplicateRate: 0, latencyMin: 1, latencyMax: 2 };
    commit(cluster, "after-install", { appliedOn: ids(3), ticks: 40 * ELECTION_TICKS });
    expect(cluster.network.sentByType.get("snap") ?? 0).toBeGreaterThanOrEqual(1);
    expect(cluster.node(follower).snapshotIndex).toBeGreaterThanOrEqual(20);
    expectConverged(cluster);
  }

  test("install snapshot to a lagging follower (reliable)", () => {
    laggingFollower(false);
  });

  test("install snapshot to a lagging follower (unreliable)", () => {
    laggingFollower(true);
  });

  test("install snapshot to a crashed follower once it restarts", () => {
    const cluster = makeCluster(3, { snapshotEvery: 10 });
    const leader = waitForLeader(cluster);
    const follower = ids(3).find((id) => id !== leader) as number;
    cluster.crash(follower);
    fill(
      cluster,
      "down",
      30,
      ids(3).filter((id) => id !== follower),
    );
    cluster.network.resetCounters();
    cluster.restart(follower);
    commit(cluster, "restarted", { appliedOn: ids(3), ticks: 40 * ELECTION_TICKS });
    expect(cluster.network.sentByType.get("snap") ?? 0).toBeGreaterThanOrEqual(1);
    expectConverged(cluster);
  });

  test("all crashed: every node restarts from its snapshot plus its log and the cluster continues", () => {
    const cluster = makeCluster(3, { snapshotEvery: 10 });
    waitForLeader(cluster);
    fill(cluster, "before", 25, ids(3));
    const machines = ids(3).map((id) => ({ ...cluster.node(id).machine }));
    for (const id of ids(3)) {
      cluster.crash(id);
    }
    for (const id of ids(3)) {
      cluster.restart(id);
    }
    waitForLeader(cluster);
    commit(cluster, "after", { appliedOn: ids(3) });
    ids(3).forEach((id, i) => expect(cluster.node(id).machine.count).toBe((machines[i]?.count ?? 0) + 1));
    expectConverged(cluster);
  });

  test("snapshot at start-up: a restarted node's state machine starts from its snapshot", () => {
    const cluster = makeCluster(3, { snapshotEvery: 10 });
    waitForLeader(cluster);
    fill(cluster, "boot", 12, ids(3));
    const id = 1;
    const snapshotIndex = cluster.node(id).snapshotIndex;
    expect(snapshotIndex).toBeGreaterThanOrEqual(10);
    cluster.crash(id);
    cluster.restart(id);
    // Before any message: the core starts at the snapshot and the machine holds its state.
    expect(cluster.raw(id).status().applied).toBe(snapshotIndex);
    expect(cluster.node(id).machine.index).toBe(snapshotIndex);
    expect(cluster.raw(id).raft.log.firstIndex()).toBe(snapshotIndex + 1);
    commit(cluster, "boot-after", { appliedOn: ids(3) });
    expectConverged(cluster);
  });
});
