// Membership change (one server at a time, §4.1 of the thesis), leadership transfer (§3.10) and
// ReadIndex (§6.4).
import { describe, expect, test } from "vitest";
import { ELECTION_TICKS, commit, expectConverged, hasApplied, ids, makeCluster, runTicks, waitForLeader } from "../testing/scenario.js";

const EMPTY = new Uint8Array(0);

describe("membership", () => {
  test("removing the leader: it steps down once the removal commits and the rest elect a leader", () => {
    const cluster = makeCluster(3);
    const leader = waitForLeader(cluster);
    commit(cluster, "before", { appliedOn: ids(3) });
    expect(cluster.proposeConfChange(leader, { type: "removeNode", nodeId: leader, context: EMPTY })).toBe(true);
    const rest = ids(3).filter((id) => id !== leader);
    expect(cluster.runUntil(() => cluster.raw(leader).status().role !== "leader", 10 * ELECTION_TICKS * cluster.tickUnits)).toBe(true);
    commit(cluster, "after", { appliedOn: rest, group: rest });
    for (const id of rest) {
      expect(cluster.raw(id).status().voters).toEqual(rest);
    }
    runTicks(cluster, 10 * ELECTION_TICKS);
    // The removed node never campaigns again.
    expect(cluster.raw(leader).status().role).toBe("follower");
    expect(cluster.raw(leader).status().voters).toEqual(rest);
  });

  test("adding a node: it catches up by snapshot and then counts in the quorum", () => {
    const cluster = makeCluster(4, { snapshotEvery: 10, bootstrapVoters: [1, 2, 3] });
    const leader = waitForLeader(cluster);
    expect(cluster.raw(4).status().voters).toEqual([1, 2, 3]);
    for (let i = 0; i < 25; i++) {
      commit(cluster, `pre-${i}`, { appliedOn: [1, 2, 3] });
    }
    cluster.network.resetCounters();
    expect(cluster.proposeConfChange(leader, { type: "addNode", nodeId: 4, context: EMPTY })).toBe(true);
    commit(cluster, "joined", { appliedOn: [1, 2, 3, 4], ticks: 40 * ELECTION_TICKS });
    expect(cluster.network.sentByType.get("snap") ?? 0).toBeGreaterThanOrEqual(1);
    expect(cluster.raw(4).status().voters).toEqual([1, 2, 3, 4]);
    // With 4 voters the quorum is 3: crash two of the old ones and nothing commits...
    const [a, b] = [1, 2, 3].filter((id) => id !== leader) as [number, number];
    cluster.crash(a);
    commit(cluster, "three-of-four", { appliedOn: [leader, b, 4] });
    cluster.crash(b);
    cluster.propose(leader, "two-of-four");
    runTicks(cluster, 3 * ELECTION_TICKS);
    expect(hasApplied(cluster, leader, "two-of-four")).toBe(false);
    cluster.restart(a);
    cluster.restart(b);
    commit(cluster, "all-four", { appliedOn: [1, 2, 3, 4], ticks: 40 * ELECTION_TICKS });
    expectConverged(cluster);
  });

  test("a second membership change is refused until the first is applied", () => {
    const cluster = makeCluster(5, { bootstrapVoters: [1, 2, 3] });
    const leader = waitForLeader(cluster);
    runTicks(cluster, 2);
    expect(cluster.proposeConfChange(leader, { type: "addNode", nodeId: 4, context: EMPTY })).toBe(true);
    expect(cluster.proposeConfChange(leader, { type: "addNode", nodeId: 5, context: EMPTY })).toBe(false);
    runTicks(cluster, 5);
    expect(cluster.proposeConfChange(leader, { type: "addNode", nodeId: 5, context: EMPTY })).toBe(true);
  });
});

describe("leadership transfer", () => {
  test("transfer: the target becomes leader in the next term", () => {
    const cluster = makeCluster(3);
    const leader = waitForLeader(cluster);
    commit(cluster, "x", { appliedOn: ids(3) });
    const target = ids(3).find((id) => id !== leader) as number;
    const termBefore = cluster.raw(leader).status().term;
    cluster.transferLeader(leader, target);
    expect(cluster.runUntil(() => cluster.leader() === target, 3 * ELECTION_TICKS * cluster.tickUnits)).toBe(true);
    expect(cluster.raw(target).status().term).toBe(termBefore + 1);
  });

  test("transfer to a lagging node catches it up first; proposals are refused meanwhile", () => {
    const cluster = makeCluster(3);
    const leader = waitForLeader(cluster);
    const target = ids(3).find((id) => id !== leader) as number;
    cluster.network.isolate(target, ids(3));
    for (let i = 0; i < 5; i++) {
      commit(cluster, `lag-${i}`, { appliedOn: ids(3).filter((id) => id !== target) });
    }
    cluster.network.heal();
    cluster.transferLeader(leader, target);
    expect(cluster.propose(leader, "during-transfer")).toBe(false);
    expect(cluster.runUntil(() => cluster.leader() === target, 5 * ELECTION_TICKS * cluster.tickUnits)).toBe(true);
    expect(cluster.commandsOf(target)).toEqual(["lag-0", "lag-1", "lag-2", "lag-3", "lag-4"]);
  });

  test("a transfer to an unreachable node is abandoned after an election timeout", () => {
    const cluster = makeCluster(3);
    const leader = waitForLeader(cluster);
    const target = ids(3).find((id) => id !== leader) as number;
    cluster.crash(target);
    cluster.transferLeader(leader, target);
    expect(cluster.propose(leader, "refused")).toBe(false);
    runTicks(cluster, ELECTION_TICKS + 1);
    expect(cluster.leader()).toBe(leader);
    expect(cluster.propose(leader, "accepted")).toBe(true);
  });
});

describe("ReadIndex", () => {
  test("reads on the leader and on a follower return an index covering every earlier commit", () => {
    const cluster = makeCluster(3, { raft: { checkQuorum: true } });
    const leader = waitForLeader(cluster);
    commit(cluster, "w1", { appliedOn: ids(3) });
    const follower = ids(3).find((id) => id !== leader) as number;
    // The cluster checks each returned read index against the highest applied index at request time.
    cluster.readIndex(leader);
    cluster.readIndex(follower);
    runTicks(cluster, 3);
    commit(cluster, "w2", { appliedOn: ids(3) });
    expectConverged(cluster);
  });

  test("a new leader answers reads only after an entry of its own term commits", () => {
    const cluster = makeCluster(3);
    const leader = waitForLeader(cluster);
    commit(cluster, "w", { appliedOn: ids(3) });
    const others = ids(3).filter((id) => id !== leader);
    cluster.crash(leader);
    const next = waitForLeader(cluster, 10 * ELECTION_TICKS, others);
    // Immediately after winning, its own empty entry is not committed: the read waits (no state yet).
    const raft = cluster.raw(next).raft;
    const committedInTerm = raft.log.term(raft.log.committed) === raft.term;
    cluster.raw(next).readIndex(new TextEncoder().encode("early"));
    if (!committedInTerm) {
      expect(raft.pendingReadIndexMessages).toHaveLength(1);
    }
    runTicks(cluster, 3);
    expect(raft.pendingReadIndexMessages).toHaveLength(0);
  });
});
