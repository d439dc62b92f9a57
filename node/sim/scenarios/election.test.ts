// Leader election claims (6.5840 3A, §5.2, §9.6 PreVote, CheckQuorum).
import { describe, expect, test } from "vitest";
import { ELECTION_TICKS, ids, leaderAmong, makeCluster, runTicks, term, waitForLeader } from "../testing/scenario.js";

describe("election", () => {
  test("initial election: exactly one leader, every node agrees on its term, and it stays without faults", () => {
    const cluster = makeCluster(3);
    const leader = waitForLeader(cluster);
    const leaderTerm = term(cluster, leader);
    runTicks(cluster, 5 * ELECTION_TICKS);
    expect(cluster.leader()).toBe(leader);
    for (const id of ids(3)) {
      expect(term(cluster, id)).toBe(leaderTerm);
      expect(cluster.raw(id).status().leader).toBe(leader);
    }
  });

  test("re-election: losing the leader elects another; the old leader rejoins as a follower", () => {
    const cluster = makeCluster(3);
    const first = waitForLeader(cluster);
    cluster.network.isolate(first, ids(3));
    const others = ids(3).filter((id) => id !== first);
    const second = waitForLeader(cluster, 10 * ELECTION_TICKS, others);
    expect(second).not.toBe(first);
    cluster.network.heal();
    runTicks(cluster, 3 * ELECTION_TICKS);
    expect(cluster.raw(first).status().role).toBe("follower");
    expect(cluster.leader()).toBe(second);
  });

  test("no leader without a quorum: a lone node never wins an election", () => {
    const cluster = makeCluster(3, { raft: { preVote: false, checkQuorum: true } });
    const leader = waitForLeader(cluster);
    const alone = ids(3).find((id) => id !== leader) as number;
    cluster.network.partition([[alone], ids(3).filter((id) => id !== alone)]);
    cluster.crash(ids(3).find((id) => id !== leader && id !== alone) as number);
    // Now neither side has a majority: the old leader steps down (CheckQuorum) and nobody wins.
    runTicks(cluster, 10 * ELECTION_TICKS);
    expect(cluster.leader()).toBeUndefined();
  });

  test("many elections: 7 nodes with 3 random nodes cut off each round always find a leader", () => {
    const cluster = makeCluster(7, { seed: 11 });
    waitForLeader(cluster);
    for (let round = 0; round < 10; round++) {
      const shuffled = cluster.rng.shuffle(ids(7));
      const down = shuffled.slice(0, 3);
      const up = shuffled.slice(3);
      cluster.network.partition([down, up]);
      runTicks(cluster, 2 * ELECTION_TICKS);
      expect(cluster.runUntil(() => leaderAmong(cluster, up) !== undefined, 10 * ELECTION_TICKS * cluster.tickUnits)).toBe(true);
      cluster.network.heal();
    }
  });

  test("message count for an election is bounded (at most a few rounds of votes)", () => {
    const cluster = makeCluster(5, { raft: { preVote: true } });
    cluster.network.resetCounters();
    waitForLeader(cluster);
    const votes = ["preVote", "preVoteResp", "vote", "voteResp"].reduce((sum, type) => sum + (cluster.network.sentByType.get(type as never) ?? 0), 0);
    // One successful election of 5 nodes is 4 requests + 4 answers per phase, two phases.
    expect(votes).toBeLessThanOrEqual(3 * 16);
  });

  test("PreVote and CheckQuorum: an isolated node that rejoins does not depose a healthy leader", () => {
    const cluster = makeCluster(5, { raft: { preVote: true, checkQuorum: true } });
    const leader = waitForLeader(cluster);
    const leaderTerm = term(cluster, leader);
    const isolated = ids(5).find((id) => id !== leader) as number;
    cluster.network.isolate(isolated, ids(5));
    runTicks(cluster, 10 * ELECTION_TICKS);
    // Pre-votes fail, so the isolated node never increments its term.
    expect(term(cluster, isolated)).toBe(leaderTerm);
    cluster.network.heal();
    runTicks(cluster, 5 * ELECTION_TICKS);
    expect(cluster.leader()).toBe(leader);
    expect(term(cluster, leader)).toBe(leaderTerm);
  });

  test("without PreVote, a rejoining isolated node with a higher term does force a new election", () => {
    const cluster = makeCluster(3, { raft: { preVote: false, checkQuorum: false } });
    const leader = waitForLeader(cluster);
    const leaderTerm = term(cluster, leader);
    const isolated = ids(3).find((id) => id !== leader) as number;
    cluster.network.isolate(isolated, ids(3));
    runTicks(cluster, 10 * ELECTION_TICKS);
    expect(term(cluster, isolated)).toBeGreaterThan(leaderTerm);
    cluster.network.heal();
    waitForLeader(cluster);
    runTicks(cluster, 3 * ELECTION_TICKS);
    expect(term(cluster, cluster.leader() as number)).toBeGreaterThan(leaderTerm);
  });
});
