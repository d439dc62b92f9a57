// Each unsafe switch of the core really changes its behaviour: the same scripted scenario keeps a
// Raft property with the switch off and breaks it with the switch on (the node's assertions or the
// simulator's invariants report the break, as the node-logs check and the checkers do in a run).
import { describe, expect, test } from "vitest";
import type { Entry, NodeId } from "../../raft/messages.js";
import type { UnsafeCoreSwitches } from "../../raft/raft.js";
import { TestNetwork, bytes } from "../../raft/testing/test-network.js";
import { runSeed } from "../swarm.js";
import { InvariantViolation } from "../invariants.js";
import { commit, ids, makeCluster, waitForLeader } from "../testing/scenario.js";

function entry(term: number, index: number, data: string): Entry {
  return { term, index, type: "normal", data: bytes(data) };
}

function node(net: TestNetwork, id: NodeId, term: number, vote: NodeId, entries: Entry[]): void {
  net.add(id, { hardState: { term, vote, commit: 1 }, entries, confState: { voters: [1, 2, 3, 4, 5] }, applied: 1 });
}

/**
 * The Raft paper's Figure 8 at the start of (c): S1 (leader of term 2) got x at index 2 onto S2
 * only; S5 then led term 3 and wrote y at index 2 on itself only. Now S1 leads term 4 and
 * replicates x to S3 while S5 is down; then S1 goes down and S5 comes back and campaigns.
 */
function figure8(unsafe: UnsafeCoreSwitches): { net: TestNetwork; s1CommitAfterC: number; failure: string | undefined } {
  const net = new TestNetwork([], { config: unsafe });
  node(net, 1, 2, 1, [entry(1, 1, "base"), entry(2, 2, "x")]);
  node(net, 2, 2, 1, [entry(1, 1, "base"), entry(2, 2, "x")]);
  node(net, 3, 3, 5, [entry(1, 1, "base")]);
  node(net, 4, 3, 5, [entry(1, 1, "base")]);
  node(net, 5, 3, 5, [entry(1, 1, "base"), entry(3, 2, "y")]);
  net.isolate(5);
  net.campaign(1);
  net.campaign(1);
  expect(net.node(1).status()).toMatchObject({ role: "leader", term: 4 });
  const s1CommitAfterC = net.node(1).status().commit;
  // (d): S1 is cut off before its term-4 entry (if any) spreads further; S5 campaigns.
  net.heal();
  net.isolate(1);
  let failure: string | undefined;
  try {
    for (let attempt = 0; attempt < 3 && net.node(5).status().role !== "leader"; attempt++) {
      net.campaign(5);
    }
    if (net.node(5).status().role === "leader") {
      net.node(5).propose(bytes("z"));
      net.deliverAll();
    }
  } catch (error) {
    failure = (error as Error).message;
  }
  return { net, s1CommitAfterC, failure };
}

describe("unsafe switches of the core", () => {
  test("commit-previous-term: the Figure 8 leader commits x by counting old replicas, and S5 then overwrites it", () => {
    const safe = figure8({});
    // Safe: x commits only together with S1's term-4 entry, which S2 and S3 now hold, so S5 (last
    // term 3) cannot win their votes and x stays.
    expect(safe.failure).toBeUndefined();
    expect(safe.net.node(5).status().role).not.toBe("leader");
    expect(safe.net.appliedData(1)).toEqual(["x"]);

    const unsafe = figure8({ unsafeCommitPreviousTerm: true });
    expect(unsafe.s1CommitAfterC).toBe(2); // x committed by counting S1, S2, S3 in term 4
    // S5 wins term 5 with a newer last term (it lacks the committed x) and sends y over x: a
    // follower that committed x stops on its Leader Completeness check instead of taking S5's
    // commit index as a match (which, unchecked, let S5 commit y at index 2 beside x).
    expect(unsafe.net.node(5).status()).toMatchObject({ role: "leader", term: 5 });
    expect(unsafe.failure).toMatch(/follower: leader 5 sent index 2 at term 3, but this node committed it at term 2 \(Leader Completeness violated\)/);
    expect(unsafe.net.appliedData(2)).toEqual(["x"]);
  });

  test("read-without-quorum: a deposed leader cut off in a minority answers a read at a stale index", () => {
    for (const unsafeReadWithoutQuorum of [false, true]) {
      const net = new TestNetwork([1, 2, 3], { config: { unsafeReadWithoutQuorum } });
      net.campaign(1);
      net.node(1).propose(bytes("a"));
      net.deliverAll();
      net.isolate(1);
      net.campaign(2);
      net.node(2).propose(bytes("b"));
      net.deliverAll();
      expect(net.appliedData(2)).toEqual(["a", "b"]);
      // Node 1 has had no tick since, so it still believes it leads.
      expect(net.node(1).status().role).toBe("leader");
      net.node(1).readIndex(bytes("read-1"));
      const reads = net.node(1).ready().readStates;
      if (unsafeReadWithoutQuorum) {
        // Answered at index 2 (a's) although b, applied on the new leader, is at index 4.
        expect(reads).toEqual([{ index: 2, context: bytes("read-1") }]);
        expect(net.node(2).status().applied).toBe(4);
      } else {
        expect(reads).toEqual([]);
      }
    }
  });

  test("append-without-truncate: a follower keeps its conflicting suffix and applies entries the leader never committed", () => {
    for (const unsafeAppendWithoutTruncate of [false, true]) {
      const net = new TestNetwork([1, 2, 3], { config: { unsafeAppendWithoutTruncate } });
      net.campaign(1);
      // Node 1 appends u, which only it holds, then is deposed; node 2 commits v at the same index.
      net.isolate(1);
      net.node(1).propose(bytes("u"));
      net.deliverAll();
      net.campaign(2);
      net.node(2).propose(bytes("v"));
      net.deliverAll();
      net.heal();
      net.node(2).propose(bytes("w"));
      net.deliverAll();
      net.tickAll(2);
      expect(net.appliedData(2)).toEqual(["v", "w"]);
      expect(net.appliedData(1)).toEqual(unsafeAppendWithoutTruncate ? ["u", "v", "w"] : ["v", "w"]);
    }
  });

  test("the simulator's invariants catch each core switch on seeds where the safe core passes", () => {
    // Recorded seeds (re-picked when the swarm's trajectories change: session clients did, heartbeat responses held until the next tick did).
    const seeds = [4, 7, 11];
    for (const seed of seeds) {
      expect(runSeed({ seed, steps: 15_000 }).ok).toBe(true);
      const result = runSeed({ seed, steps: 15_000, unsafe: { unsafeAppendWithoutTruncate: true } });
      expect(result.property).toBe("state-machine-safety");
    }
  });
});

describe("vote-not-persisted (the node's switch, modelled in the simulator)", () => {
  /**
   * Candidates x and y (the two followers) cannot reach each other. x campaigns and wins the old
   * leader v's vote, then is cut off from v too; v crashes before anything else reaches its disk
   * and restarts; y then campaigns in the same term.
   */
  function doubleVote(unsafeVoteNotPersisted: boolean): { error: unknown; leaders: NodeId[] } {
    const cluster = makeCluster(3, { raft: { preVote: false, checkQuorum: false }, unsafeVoteNotPersisted });
    const v = waitForLeader(cluster);
    commit(cluster, "a", { appliedOn: ids(3) });
    const [x, y] = ids(3).filter((id) => id !== v) as [NodeId, NodeId];
    cluster.network.cut(x, y);
    let error: unknown;
    try {
      cluster.campaign(x);
      cluster.runUntil(() => cluster.raw(x).status().role === "leader", 5 * cluster.tickUnits);
      const term = cluster.raw(x).status().term;
      cluster.network.cut(x, v); // x is cut off after winning, so v hears no leader after restart
      cluster.crash(v);
      cluster.restart(v);
      cluster.campaign(y);
      cluster.runUntil(() => cluster.raw(y).status().term === term && cluster.raw(y).status().role === "leader", 5 * cluster.tickUnits);
    } catch (caught) {
      error = caught;
    }
    return { error, leaders: [x, y].filter((id) => cluster.node(id).raw?.status().role === "leader") };
  }

  test("a restarted voter forgets its vote and elects a second leader in the same term", () => {
    const safe = doubleVote(false);
    expect(safe.error).toBeUndefined();
    expect(safe.leaders).toHaveLength(1);
    const unsafe = doubleVote(true);
    expect(unsafe.error).toBeInstanceOf(InvariantViolation);
    expect((unsafe.error as InvariantViolation).property).toBe("election-safety");
  });
});
