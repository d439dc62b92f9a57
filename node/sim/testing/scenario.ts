// A small vocabulary for named scenarios on the simulated cluster (MIT 6.5840-style claims):
// build a cluster, wait for a leader, propose until committed, cut links, count messages.
import { expect } from "vitest";
import type { NodeId } from "../../raft/messages.js";
import { SimCluster } from "../cluster.js";
import type { SimClusterOptions } from "../cluster-options.js";
import type { NetworkOptions } from "../network.js";

export const ELECTION_TICKS = 10;
export const UNRELIABLE: NetworkOptions = { dropRate: 0.1, duplicateRate: 0.05, latencyMin: 1, latencyMax: 15 };

export function ids(count: number): NodeId[] {
  return Array.from({ length: count }, (_, i) => i + 1);
}

export function makeCluster(count: number, options: Partial<SimClusterOptions> = {}): SimCluster {
  return new SimCluster({
    ids: ids(count),
    seed: 7,
    network: { dropRate: 0, duplicateRate: 0, latencyMin: 1, latencyMax: 2 },
    ...options,
    raft: { electionTicks: ELECTION_TICKS, heartbeatTicks: 1, ...options.raft },
  });
}

export function runTicks(cluster: SimCluster, ticks: number): void {
  cluster.runFor(ticks * cluster.tickUnits);
}

/** Runs until some live node leads and returns it; fails the test after `ticks`. */
export function waitForLeader(cluster: SimCluster, ticks = 10 * ELECTION_TICKS, among?: readonly NodeId[]): NodeId {
  const found = cluster.runUntil(() => {
    const leader = cluster.leader();
    return leader !== undefined && (among === undefined || among.includes(leader));
  }, ticks * cluster.tickUnits);
  const leader = cluster.leader();
  expect(found, `no leader within ${ticks} ticks`).toBe(true);
  return leader as NodeId;
}

/** The leader of the highest term among the given nodes only. */
export function leaderAmong(cluster: SimCluster, group: readonly NodeId[]): NodeId | undefined {
  let best: NodeId | undefined;
  let bestTerm = -1;
  for (const id of group) {
    const r = cluster.node(id).raw?.raft;
    if (r !== undefined && r.role === "leader" && r.term > bestTerm) {
      best = id;
      bestTerm = r.term;
    }
  }
  return best;
}

export function hasApplied(cluster: SimCluster, id: NodeId, command: string): boolean {
  return [...(cluster.appliedCommands.get(id)?.values() ?? [])].includes(command);
}

/**
 * Proposes at the current leader of `group` (re-proposing after lost leaderships) until every node
 * of `appliedOn` applied the command; fails the test after `ticks`.
 */
export function commit(cluster: SimCluster, command: string, options: { appliedOn: readonly NodeId[]; group?: readonly NodeId[]; ticks?: number }): void {
  const group = options.group ?? [...cluster.nodes.keys()];
  const deadline = cluster.now + (options.ticks ?? 20 * ELECTION_TICKS) * cluster.tickUnits;
  const done = (): boolean => options.appliedOn.every((id) => hasApplied(cluster, id, command));
  while (cluster.now < deadline) {
    const leader = leaderAmong(cluster, group);
    if (leader !== undefined) {
      cluster.propose(leader, command);
    }
    if (cluster.runUntil(done, 3 * ELECTION_TICKS * cluster.tickUnits)) {
      return;
    }
  }
  expect.fail(`"${command}" was not applied on ${options.appliedOn.join(",")} in time`);
}

/** Machine states agree on every live node (index, hash chain and count). */
export function expectConverged(cluster: SimCluster, nodes: readonly NodeId[] = [...cluster.nodes.keys()], ticks = 20 * ELECTION_TICKS): void {
  const converged = (): boolean => {
    const machines = nodes.map((id) => cluster.node(id).machine);
    const first = machines[0];
    return first !== undefined && machines.every((m) => m.index === first.index && m.hash === first.hash && m.count === first.count);
  };
  expect(cluster.runUntil(converged, ticks * cluster.tickUnits), "state machines did not converge").toBe(true);
}

export function term(cluster: SimCluster, id: NodeId): number {
  return cluster.raw(id).status().term;
}
