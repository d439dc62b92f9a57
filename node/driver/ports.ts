// The small ports the Ready pipeline (ready-pipeline.ts) drives. The node server implements them
// with the WAL, snapshot files, TCP and the event loop (node/server/driver-ports.ts); the simulator
// and unit tests with memory that can stall, lose unsynced writes or tear them on a crash
// (memory-ports.ts). Every operation completes through a callback rather than a promise, so that a
// simulator can finish it at a virtual time of its choosing and stay deterministic and synchronous.
import type { Entry, HardState, Message, Snapshot } from "../raft/messages.js";

/** Completion of one storage operation: an error means the node cannot go on (it stops). */
export type Done = (error?: unknown) => void;

export interface SnapshotPoint {
  index: number;
  term: number;
}

/**
 * The write-ahead log. Operations are performed, and complete, in call order (one queue); each
 * updates the synchronous view (lastIndex, snapshotIndex) when it is called, as FileLog does.
 */
export interface LogStorage {
  /** Last index appended (called, not necessarily durable). */
  readonly lastIndex: number;
  /** Index named by the newest snapshot marker written (called). */
  readonly snapshotIndex: number;
  /** Appends entries (truncating a conflicting suffix) and a hard state; durable only after sync. */
  append(entries: readonly Entry[], hardState: HardState | undefined, done: Done): void;
  /** Makes everything called before it durable. */
  sync(done: Done): void;
  /** Records that a snapshot on disk covers the log up to point; must not go below the current one. */
  markSnapshot(point: SnapshotPoint, done: Done): void;
  /** Drops entries covered by the marker's snapshot. */
  compact(index: number, done: Done): void;
}

/** Snapshot files: each save is durable when done is called; saves are independent of the log queue. */
export interface SnapshotStorage {
  save(snapshot: Snapshot, done: Done): void;
}

export interface PeerTransport {
  /** Hands messages to the network: never blocks, never throws for a peer that is down. */
  send(messages: readonly Message[]): void;
  /** Optional: hands what send() queued to the network now rather than at the end of the turn. */
  flush?(): void;
}

export interface Clock {
  /** Milliseconds on a monotonic clock (virtual in the simulator); for measurements only. */
  nowMs(): number;
  /** Runs callback soon, after the inputs already queued (setImmediate; an event in the simulator). */
  defer(callback: () => void): void;
}
