// The node's own periodic snapshots: every snapshotEvery applied entries, serialise the replicated
// state, save it, write the log's marker, sync, then compact the core's log and the WAL. Runs in the
// Ready pipeline's ordered chain: while it is busy no later Ready finishes.
import type { ConfState, Entry, Snapshot } from "../raft/messages.js";
import type { RawNode } from "../raft/raw-node.js";
import type { Clock, LogStorage, PipelineLogger, SnapshotStorage } from "./ports.js";

/** The replicated state machine side of the node, as the pipeline needs it. */
export interface AppliedState {
  /** Index and term of the last applied entry (or installed snapshot). */
  readonly applied: number;
  readonly appliedTerm: number;
  readonly confState: ConfState;
  applyEntries(entries: readonly Entry[]): void;
  installSnapshot(snapshot: Snapshot): void;
  /** Serialises the whole replicated state at `applied`. */
  snapshotData(): Uint8Array;
}

export interface LocalSnapshotsOptions {
  rawNode: RawNode;
  log: LogStorage;
  snapshots: SnapshotStorage;
  clock: Clock;
  state: AppliedState;
  logger: PipelineLogger;
  snapshotEvery: number;
  snapshotIndex: number;
  /** Whether a snapshot from the leader is taken (in a Ready) or waiting in the core. */
  leaderSnapshotPending(): boolean;
}

export class LocalSnapshots {
  readonly #options: LocalSnapshotsOptions;
  /** Index of the latest snapshot taken or installed. */
  snapshotIndex: number;
  /** A local snapshot is being written. */
  busy = false;

  constructor(options: LocalSnapshotsOptions) {
    this.#options = options;
    this.snapshotIndex = options.snapshotIndex;
  }

  /** A Ready carrying a leader's snapshot was taken. */
  onLeaderSnapshotTaken(): void {}

  /** A leader's snapshot was installed. */
  onInstalled(index: number): void {
    this.snapshotIndex = Math.max(this.snapshotIndex, index);
  }

  /** Starts a snapshot when one is due; `onDone` runs once it is written and compacted. */
  maybeStart(onDone: () => void, onError: (error: unknown) => void): void {
    const { state, rawNode, log, logger, clock } = this.#options;
    const applied = state.applied;
    if (this.busy || applied - this.snapshotIndex < this.#options.snapshotEvery) {
      return;
    }
    this.busy = true;
    const started = clock.nowMs();
    const data = state.snapshotData();
    const snapshot: Snapshot = {
      metadata: { index: applied, term: state.appliedTerm, confState: { voters: [...state.confState.voters] } },
      data,
    };
    let failed = false;
    const fail = (error: unknown): void => {
      if (failed) {
        return;
      }
      failed = true;
      this.busy = false;
      onError(error);
    };
    this.#options.snapshots.save(snapshot, (saveError) => {
      if (saveError !== undefined) {
        fail(saveError);
        return;
      }
      log.markSnapshot({ index: applied, term: snapshot.metadata.term }, (markError) => {
        if (markError !== undefined) {
          fail(markError);
        }
      });
      log.sync((syncError) => {
        if (syncError !== undefined || failed) {
          fail(syncError);
          return;
        }
        try {
          rawNode.compact(applied, data);
        } catch (error) {
          fail(error);
          return;
        }
        log.compact(applied, (compactError) => {
          if (compactError !== undefined) {
            fail(compactError);
            return;
          }
          this.snapshotIndex = applied;
          this.busy = false;
          logger.info("took a snapshot and compacted the log", { index: applied, bytes: data.length, ms: Math.round(clock.nowMs() - started) });
          onDone();
        });
      });
    });
  }
}
