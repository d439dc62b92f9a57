// Log replication claims (6.5840 3B, §5.3, §5.4).
import { describe, expect, test } from "vitest";
import { ELECTION_TICKS, commit, expectConverged, hasApplied, ids, makeCluster, runTicks, waitForLeader } from "../testing/scenario.js";

describe("agreement", () => {
  test("basic agreement: each proposal is applied by every node at the same index", () => {
    const cluster = makeCluster(5);
    waitForLeader(cluster);
    for (let i = 1; i <= 5; i++) {
      commit(cluster, `cmd-${i}`, { appliedOn: ids(5) });
    }
    for (const id of ids(5)) {
      expect(cluster.commandsOf(id)).toEqual(["cmd-1", "cmd-2", "cmd-3", "cmd-4", "cmd-5"]);
    }
  });

  test("bytes per entry are bounded: each entry crosses each leader-follower link about once", () => {
    const cluster = makeCluster(3);
    const leader = waitForLeader(cluster);
    runTicks(cluster, 2);
    cluster.network.resetCounters();
    for (let i = 0; i < 100; i++) {
      cluster.propose(leader, `entry-${i}`);
      runTicks(cluster, 1);
    }
    runTicks(cluster, 5);
    for (const follower of ids(3).filter((id) => id !== leader)) {
      const copies = cluster.network.entriesByLink.get(`${leader}-${follower}`) ?? 0;
      expect(copies).toBeGreaterThanOrEqual(100);
      expect(copies).toBeLessThanOrEqual(110);
    }
  });

  test("follower failure: one of three down still commits; two down commits nothing", () => {
    const cluster = makeCluster(3);
    const leader = waitForLeader(cluster);
    const [first, second] = ids(3).filter((id) => id !== leader) as [number, number];
    cluster.crash(first);
    commit(cluster, "with-two", { appliedOn: [leader, second] });
    cluster.crash(second);
    const commitBefore = cluster.raw(leader).status().commit;
    cluster.propose(leader, "with-one");
    runTicks(cluster, 3 * ELECTION_TICKS);
    expect(cluster.raw(leader).status().commit).toBe(commitBefore);
    expect(hasApplied(cluster, leader, "with-one")).toBe(false);
  });

  test("leader failure: after the leader crashes, the others elect a leader and commit", () => {
    const cluster = makeCluster(3);
    const leader = waitForLeader(cluster);
    commit(cluster, "before", { appliedOn: ids(3) });
    cluster.crash(leader);
    const others = ids(3).filter((id) => id !== leader);
    commit(cluster, "after", { appliedOn: others, group: others });
  });

  test("fail-agree: a disconnected follower catches up after it reconnects", () => {
    const cluster = makeCluster(3);
    const leader = waitForLeader(cluster);
    const follower = ids(3).find((id) => id !== leader) as number;
    cluster.network.isolate(follower, ids(3));
    const connected = ids(3).filter((id) => id !== follower);
    for (let i = 0; i < 5; i++) {
      commit(cluster, `while-away-${i}`, { appliedOn: connected, group: connected });
    }
    cluster.network.heal();
    commit(cluster, "back", { appliedOn: ids(3) });
    expect(cluster.commandsOf(follower)).toEqual([...Array.from({ length: 5 }, (_, i) => `while-away-${i}`), "back"]);
  });

  test("fail-no-agree: with 3 of 5 followers cut off nothing commits; after healing the cluster agrees again", () => {
    const cluster = makeCluster(5);
    const leader = waitForLeader(cluster);
    const cutOff = ids(5)
      .filter((id) => id !== leader)
      .slice(0, 3);
    for (const id of cutOff) {
      cluster.network.isolate(id, ids(5));
    }
    const commitBefore = cluster.raw(leader).status().commit;
    cluster.propose(leader, "minority");
    runTicks(cluster, 2 * ELECTION_TICKS);
    expect(cluster.raw(leader).status().commit).toBe(commitBefore);
    cluster.network.heal();
    commit(cluster, "healed", { appliedOn: ids(5), ticks: 40 * ELECTION_TICKS });
  });

  test("concurrent proposals: many proposals at once all commit, in one order everywhere", () => {
    const cluster = makeCluster(3);
    const leader = waitForLeader(cluster);
    runTicks(cluster, 2); // let every follower hear of the leader, so it can forward
    for (let i = 0; i < 50; i++) {
      expect(cluster.propose(ids(3)[i % 3] as number, `concurrent-${i}`)).toBe(true);
    }
    expect(cluster.runUntil(() => ids(3).every((id) => cluster.commandsOf(id).length === 50), 20 * ELECTION_TICKS * cluster.tickUnits)).toBe(true);
    const order = cluster.commandsOf(leader);
    expect(new Set(order).size).toBe(50);
    for (const id of ids(3)) {
      expect(cluster.commandsOf(id)).toEqual(order);
    }
  });

  test("rejoin: a partitioned old leader's uncommitted entries are overwritten", () => {
    const cluster = makeCluster(3);
    const oldLeader = waitForLeader(cluster);
    commit(cluster, "common", { appliedOn: ids(3) });
    cluster.network.isolate(oldLeader, ids(3));
    for (let i = 0; i < 3; i++) {
      cluster.propose(oldLeader, `orphan-${i}`);
    }
    const others = ids(3).filter((id) => id !== oldLeader);
    commit(cluster, "new-era", { appliedOn: others, group: others });
    cluster.network.heal();
    commit(cluster, "after-rejoin", { appliedOn: ids(3) });
    expect(cluster.commandsOf(oldLeader)).toEqual(["common", "new-era", "after-rejoin"]);
    expect(cluster.raw(oldLeader).status().role).toBe("follower");
  });

  test("fast backup: 50-entry divergent logs are repaired with one round trip per divergent term", () => {
    const cluster = makeCluster(5, { raft: { maxEntriesPerMessage: 64 } });
    const leader = waitForLeader(cluster);
    commit(cluster, "base", { appliedOn: ids(5) });
    const partner = ids(5).find((id) => id !== leader) as number;
    const minority = [leader, partner];
    const majority = ids(5).filter((id) => !minority.includes(id));
    cluster.network.partition([minority, majority]);
    // Three terms of divergence in the minority: each time 50 uncommitted entries.
    for (let i = 0; i < 50; i++) {
      cluster.propose(leader, `lost-${i}`);
    }
    runTicks(cluster, 2);
    for (let i = 0; i < 50; i++) {
      commit(cluster, `kept-${i}`, { appliedOn: majority, group: majority });
    }
    cluster.network.resetCounters();
    cluster.network.heal();
    commit(cluster, "repaired", { appliedOn: ids(5), ticks: 40 * ELECTION_TICKS });
    // The divergent suffix on each minority node spans one term: expect about one rejection each
    // (plus a probe of the new leader's own), far fewer than the 50 of entry-by-entry backtracking.
    expect(cluster.network.rejectedAppends).toBeLessThanOrEqual(2 * minority.length + 2);
    expect(cluster.commandsOf(leader).filter((c) => c.startsWith("lost-"))).toEqual([]);
  });

  test("message counts: 10 entries and an idle second cost a bounded number of messages", () => {
    const cluster = makeCluster(3);
    const leader = waitForLeader(cluster);
    runTicks(cluster, 3);
    cluster.network.resetCounters();
    for (let i = 0; i < 10; i++) {
      commit(cluster, `counted-${i}`, { appliedOn: ids(3) });
    }
    // Per entry: an app and an answer per follower, plus a commit notice: well under 10 messages.
    expect(cluster.network.sentTotal).toBeLessThanOrEqual(10 * 10 + 40);
    cluster.network.resetCounters();
    // An idle "second" is 10 ticks of heartbeats: 2 followers x (heartbeat + answer) per tick.
    runTicks(cluster, 10);
    expect(cluster.network.sentTotal).toBeLessThanOrEqual(10 * 4 + 4);
    expect(cluster.leader()).toBe(leader);
  });

  test("converged machines: after agreement all state machines have the same hash chain", () => {
    const cluster = makeCluster(3);
    waitForLeader(cluster);
    commit(cluster, "a", { appliedOn: ids(3) });
    commit(cluster, "b", { appliedOn: ids(3) });
    expectConverged(cluster);
  });
});
