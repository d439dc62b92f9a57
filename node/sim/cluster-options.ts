// What a simulated cluster is made of: its nodes, seed, network, timing and the faults the swarm
// draws (see cluster.ts).
import type { NodeId } from "../raft/messages.js";
import type { RaftConfig } from "../raft/raft.js";
import type { NetworkOptions } from "./network.js";

/** A fault that makes something slow for a while: with probability `rate` per chance, up to `maxUnits` time units. */
export interface StallOptions {
  rate: number;
  maxUnits: number;
}

export interface SimClusterOptions {
  ids: readonly NodeId[];
  seed: number;
  network?: NetworkOptions;
  raft?: Partial<Omit<RaftConfig, "id" | "rng">>;
  /** Time units between two ticks of a node. */
  tickUnits?: number;
  /** Each disk operation takes a uniform [0, diskLatencyMax] time units. */
  diskLatencyMax?: number;
  /** Per disk operation: a stall (the disk takes that long, and everything queued behind it waits). */
  diskStall?: StallOptions;
  /** Per tick: the node's event loop blocks (no timer, message or disk completion is handled). */
  loopStall?: StallOptions;
  /** Readys in flight in each node's pipeline (the server runs 8). */
  pipelineDepth?: number;
  /** Take a snapshot and compact every this many applied entries (0: never). */
  snapshotEvery?: number;
  /** Probability that a node crashes as a log write completes, keeping a torn prefix of its unsynced writes. */
  crashDuringWriteRate?: number;
  /** Keep every event's text (determinism test). */
  traceAll?: boolean;
  /**
   * The node's unsafe vote-not-persisted switch, in the same Ready pipeline: a vote reply leaves
   * before its Ready is persisted, and a term-and-vote-only hard state waits for the next write.
   */
  unsafeVoteNotPersisted?: boolean;
  /** Self-test: snapshots leave the session table out, so a restored one is not the committed prefix. */
  unsafeSnapshotWithoutSessions?: boolean;
  /** Voters at bootstrap when they differ from ids (nodes added later start empty). */
  bootstrapVoters?: readonly NodeId[];
}
