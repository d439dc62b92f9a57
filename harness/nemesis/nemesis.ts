// The nemesis contract, in Jepsen's spirit: a fault is invoked, lasts a while, then is healed. Each
// nemesis is a small stateful object (it remembers what it did, so heal undoes exactly that) and
// reports what it did as JSON, which the scheduler (combined.ts) writes into the history.
import { setTimeout as sleep } from "node:timers/promises";
import type { Json } from "../../plugins/api.js";
import type { RaftClient } from "../../node/client/raft-client.js";
import type { Cluster } from "../runtime/runtime.js";
import type { SeededRng } from "../../lib/rng.js";
import { majority } from "../../lib/majority.js";
import { silentLogger, type Logger } from "../../lib/logger.js";

/** What a nemesis did, for the history: `f` names the action, `value` gives its targets and details. */
export interface FaultRecord {
  f: string;
  value: Json;
}

export interface NemesisContext {
  rng: SeededRng;
  /** The current leader, by asking every node for its status (undefined when none answers as leader). */
  leader(signal?: AbortSignal): Promise<number | undefined>;
  log: Logger;
  /** For faults that go through the cluster's own API (transfer-leader, membership). */
  client: RaftClient;
}

export interface Nemesis {
  /** The fault's name as workloads spell it, e.g. "partition-leader". */
  readonly name: string;
  /** Injects the fault. Throws NemesisError (or the runtime's FaultUnsupportedError) when it cannot. */
  invoke(cluster: Cluster, context: NemesisContext, signal?: AbortSignal): Promise<FaultRecord>;
  /** False for faults with nothing to undo (transfer-leader): the scheduler then records no heal. */
  readonly needsHeal?: boolean;
  /** Undoes what the last invoke did; undefined when there is nothing to undo. Safe to call twice. */
  heal(cluster: Cluster, signal?: AbortSignal): Promise<FaultRecord | undefined>;
}

export type NemesisErrorCode =
  /** A leader-targeted fault found no leader to target. */
  | "NO_LEADER"
  /** The cluster is too small for the fault (e.g. a minority of one node is empty). */
  | "CLUSTER_TOO_SMALL"
  /** A scripted fault written for another cluster size. */
  | "CLUSTER_SIZE"
  /** The cluster refused a membership or leadership request. */
  | "REQUEST_FAILED"
  /** A fault name that is not in the catalogue. */
  | "UNKNOWN_FAULT";

export class NemesisError extends Error {
  override readonly name = "NemesisError";
  constructor(
    readonly code: NemesisErrorCode,
    /** The nemesis at fault. */
    readonly nemesis: string,
    message: string,
  ) {
    super(`${code}: nemesis ${nemesis}: ${message}`);
  }
}

/** A random non-empty minority (size 1 .. n - majority), or CLUSTER_TOO_SMALL when there is none. */
export function randomMinority(rng: SeededRng, nodeIds: readonly number[], nemesis: string): number[] {
  const largest = nodeIds.length - majority(nodeIds.length);
  if (largest < 1) {
    throw new NemesisError("CLUSTER_TOO_SMALL", nemesis, `${nodeIds.length} node(s) have no non-empty minority`);
  }
  const size = 1 + rng.int(largest);
  return rng
    .shuffle([...nodeIds])
    .slice(0, size)
    .sort((a, b) => a - b);
}

/** How long a leader-targeted fault waits for an election in progress (a few election timeouts). */
const leaderWaitMs = 2_000;
const leaderPollMs = 100;

/**
 * The leader, or NO_LEADER naming the nemesis. An election in progress (after a heal, a restart) is
 * waited for briefly: a fault that fails for so short a gap would leave that fault untested, which
 * the nemesis check reports as an unknown verdict.
 */
export async function requireLeader(context: NemesisContext, nemesis: string, signal?: AbortSignal): Promise<number> {
  const deadline = Date.now() + leaderWaitMs;
  for (;;) {
    const leader = await context.leader(signal);
    if (leader !== undefined) {
      return leader;
    }
    if (Date.now() + leaderPollMs > deadline || signal?.aborted === true) {
      throw new NemesisError("NO_LEADER", nemesis, `no node answered as leader within ${leaderWaitMs} ms`);
    }
    await sleep(leaderPollMs, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
  }
}

/** The usual context: leader() asks every node for its status through the client. */
export function createNemesisContext(options: { client: RaftClient; rng: SeededRng; log?: Logger }): NemesisContext {
  const { client, rng } = options;
  return {
    rng,
    client,
    log: options.log ?? silentLogger,
    leader: (signal) => client.findLeader(signal === undefined ? {} : { signal }),
  };
}

export function nodeIdsOf(cluster: Cluster): number[] {
  return cluster.nodes.map((node) => node.id);
}

/**
 * The heal shared by network faults (partitions, loss, latency, bandwidth): every rule goes at once.
 * Returns undefined when the fault was never put in place.
 */
export async function healNetwork(cluster: Cluster, fault: string, active: boolean, signal?: AbortSignal): Promise<FaultRecord | undefined> {
  if (!active) {
    return undefined;
  }
  await cluster.network.heal(signal);
  return { f: "heal", value: { fault, network: "healed" } };
}
