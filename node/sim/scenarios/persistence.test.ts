// Persistence and unreliable-network claims (6.5840 3C): every event of these runs is checked by
// the cluster's invariants (election safety, log matching, leader completeness, state machine
// safety, durability), so surviving them is the claim.
import { describe, expect, test } from "vitest";
import type { SimCluster } from "../cluster.js";
import { ELECTION_TICKS, UNRELIABLE, commit, expectConverged, ids, makeCluster, runTicks, waitForLeader } from "../testing/scenario.js";

function restartAll(cluster: SimCluster): void {
  for (const id of cluster.nodes.keys()) {
    cluster.restart(id);
  }
}

describe("persistence", () => {
  test("persist: committed entries survive crashes of followers, of the leader, and of every node", () => {
    const cluster = makeCluster(3, { diskLatencyMax: 2 });
    let leader = waitForLeader(cluster);
    commit(cluster, "one", { appliedOn: ids(3) });
    for (const id of ids(3).filter((id) => id !== leader)) {
      cluster.crash(id);
      cluster.restart(id);
    }
    commit(cluster, "two", { appliedOn: ids(3) });
    cluster.crash(leader);
    cluster.restart(leader);
    commit(cluster, "three", { appliedOn: ids(3) });
    for (const id of ids(3)) {
      cluster.crash(id);
    }
    restartAll(cluster);
    leader = waitForLeader(cluster);
    commit(cluster, "four", { appliedOn: ids(3) });
    for (const id of ids(3)) {
      expect(cluster.commandsOf(id)).toEqual(["one", "two", "three", "four"]);
    }
  });

  test("a crash in the middle of writing a Ready (torn write) loses only unacknowledged state", () => {
    const cluster = makeCluster(5, { seed: 3, crashDuringWriteRate: 0.05, diskLatencyMax: 3 });
    waitForLeader(cluster);
    for (let i = 0; i < 40; i++) {
      const leader = cluster.leader();
      if (leader !== undefined) {
        cluster.propose(leader, `torn-${i}`);
      }
      runTicks(cluster, 2);
      restartAll(cluster);
    }
    cluster.crashDuringWriteRate = 0;
    restartAll(cluster);
    commit(cluster, "final", { appliedOn: ids(5), ticks: 40 * ELECTION_TICKS });
    expectConverged(cluster);
  });

  function figure8(cluster: SimCluster, rounds: number, unreliable: boolean): void {
    const all = ids(5);
    waitForLeader(cluster);
    for (let round = 0; round < rounds; round++) {
      const leader = cluster.leader();
      if (leader !== undefined) {
        cluster.propose(leader, `f8-${round}`);
      }
      runTicks(cluster, cluster.rng.next() < 0.1 ? 1 + cluster.rng.int(ELECTION_TICKS * 5) : 1 + cluster.rng.int(3));
      if (leader !== undefined && cluster.rng.next() < 0.5) {
        cluster.crash(leader);
      }
      const crashed = all.filter((id) => !cluster.node(id).alive);
      if (all.length - crashed.length < 3 && crashed.length > 0) {
        cluster.restart(crashed[cluster.rng.int(crashed.length)] as number);
      }
      if (unreliable && cluster.rng.next() < 0.2) {
        cluster.network.heal();
        cluster.network.isolate(all[cluster.rng.int(all.length)] as number, all);
      }
    }
    cluster.network.heal();
    cluster.network.options = { dropRate: 0, duplicateRate: 0, latencyMin: 1, latencyMax: 2 };
    restartAll(cluster);
    commit(cluster, "figure8-done", { appliedOn: all, ticks: 60 * ELECTION_TICKS });
    expectConverged(cluster);
  }

  test("Figure 8 (reliable): leaders crash right after proposing; no committed entry is ever lost", () => {
    figure8(makeCluster(5, { seed: 8, diskLatencyMax: 1 }), 300, false);
  });

  test("Figure 8 (unreliable): the same with loss, duplication, reordering and partitions", () => {
    figure8(makeCluster(5, { seed: 9, network: UNRELIABLE, diskLatencyMax: 2 }), 300, true);
  });

  test("unreliable agreement: proposals on a lossy, reordering network all commit once healed", () => {
    const cluster = makeCluster(5, { seed: 5, network: UNRELIABLE });
    waitForLeader(cluster, 40 * ELECTION_TICKS);
    for (let i = 0; i < 30; i++) {
      const leader = cluster.leader();
      if (leader !== undefined) {
        cluster.propose(leader, `u-${i}`);
      }
      runTicks(cluster, 1);
    }
    cluster.network.options = { dropRate: 0, duplicateRate: 0, latencyMin: 1, latencyMax: 2 };
    commit(cluster, "u-final", { appliedOn: ids(5), ticks: 40 * ELECTION_TICKS });
    expectConverged(cluster);
  });

  function churn(cluster: SimCluster): void {
    const all = ids(5);
    waitForLeader(cluster, 40 * ELECTION_TICKS);
    for (let step = 0; step < 200; step++) {
      const target = all[cluster.rng.int(all.length)] as number;
      const roll = cluster.rng.next();
      if (roll < 0.1) {
        cluster.crash(target);
      } else if (roll < 0.3) {
        cluster.restart(target);
      } else if (roll < 0.4) {
        cluster.network.isolate(target, all);
      } else if (roll < 0.5) {
        cluster.network.heal();
      }
      for (const id of all) {
        if (cluster.node(id).alive && cluster.rng.next() < 0.3) {
          cluster.propose(id, `churn-${step}-${id}`);
        }
      }
      runTicks(cluster, 1 + cluster.rng.int(5));
    }
    cluster.network.heal();
    cluster.network.options = { dropRate: 0, duplicateRate: 0, latencyMin: 1, latencyMax: 2 };
    restartAll(cluster);
    commit(cluster, "churn-done", { appliedOn: all, ticks: 60 * ELECTION_TICKS });
    expectConverged(cluster);
  }

  test("reliable churn: random crashes, restarts and isolations under concurrent proposals", () => {
    churn(makeCluster(5, { seed: 21, diskLatencyMax: 2 }));
  });

  test("unreliable churn: the same on a lossy, duplicating, reordering network", () => {
    churn(makeCluster(5, { seed: 22, network: UNRELIABLE, diskLatencyMax: 2 }));
  });
});
