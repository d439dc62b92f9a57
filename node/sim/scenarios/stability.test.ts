// Stability (issue 11): with disk and event-loop stalls shorter than the election timeout and no
// network fault, the first leader stays leader. Heartbeats and heartbeat responses must not wait
// behind writes, a full pipeline or a snapshot's file I/O (defect 2).
import { describe, expect, test } from "vitest";
import { SimCluster } from "../cluster.js";
import { ids } from "../testing/scenario.js";

const TICK_UNITS = 10;
const ELECTION_TICKS = 10;
const ELECTION_UNITS = TICK_UNITS * ELECTION_TICKS;

function stableRun(seed: number, nodes: number, diskStallUnits = ELECTION_UNITS - 20): { leaderChanges: number; committed: number } {
  const cluster = new SimCluster({
    ids: ids(nodes),
    seed,
    network: { dropRate: 0, duplicateRate: 0, latencyMin: 1, latencyMax: 3 },
    raft: { electionTicks: ELECTION_TICKS, heartbeatTicks: 1, preVote: true, checkQuorum: true, maxInflightMessages: 8, maxEntriesPerMessage: 64 },
    tickUnits: TICK_UNITS,
    diskLatencyMax: 3,
    // Disk stalls shorter than the election timeout, often enough to hit every node many times.
    diskStall: { rate: 0.02, maxUnits: diskStallUnits },
    // Event-loop stalls short enough that a heartbeat interval and a network delay still fit.
    loopStall: { rate: 0.01, maxUnits: ELECTION_UNITS / 2 },
    pipelineDepth: 8,
    snapshotEvery: 20,
  });
  cluster.runUntil(() => cluster.leaderChanges > 0, 20 * ELECTION_UNITS);
  const firstLeaderChanges = cluster.leaderChanges;
  let sequence = 0;
  const propose = (): void => {
    const leader = cluster.leader();
    if (leader !== undefined) {
      cluster.propose(leader, `s${++sequence}`);
    }
    if (sequence < 3000) {
      cluster.schedule(2, 0, "client", propose);
    }
  };
  cluster.schedule(1, 0, "client", propose);
  cluster.runFor(400 * ELECTION_UNITS);
  return { leaderChanges: cluster.leaderChanges - firstLeaderChanges, committed: cluster.invariants.highestCommitted };
}

describe("stability", () => {
  test.each([1, 2, 3, 4, 5, 6])("seed %i: stalls shorter than the election timeout elect no new leader (3 nodes)", (seed) => {
    const result = stableRun(seed, 3);
    expect(result.committed).toBeGreaterThan(1000);
    expect(result.leaderChanges).toBe(0);
  });

  // A slow disk must not silence a node: with heartbeats and their answers independent of writes,
  // even disk stalls of several election timeouts elect no one while the network and loops work.
  test.each([1, 2, 3, 4])("seed %i: disk stalls up to 3 election timeouts elect no new leader", (seed) => {
    const result = stableRun(seed, 3, 3 * ELECTION_UNITS);
    expect(result.leaderChanges).toBe(0);
  });

  test.each([1, 2])("seed %i: the same with 5 nodes", (seed) => {
    const result = stableRun(seed, 5);
    expect(result.leaderChanges).toBe(0);
  });
});
