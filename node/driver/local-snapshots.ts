// The node's own periodic snapshots: every snapshotEvery applied entries, serialise the replicated
// state, save it, write the log's marker, sync, then compact the core's log and the WAL. Runs beside
// the Ready pipeline's ordered chain: later Readys keep finishing while the file is written (its
// marker keeps the entries after it, which the log already holds).
//
// A snapshot from the leader wins over a local one (issue 11, defect 1): none is started while a
// leader's snapshot is pending, and one that a leader's snapshot overtakes while its file is being
// saved is abandoned before its marker, which would otherwise land below the leader's.
import type { ConfState, Entry, Snapshot } from "../raft/messages.js";
import type { RawNode } from "../raft/raw-node.js";
import type { Clock, LogStorage, SnapshotStorage } from "./ports.js";
import type { Logger } from "../../lib/logger.js";

/** The replicated state machine side of the node, as the pipeline needs it. */
export interface AppliedState {
  /** Index and term of the last applied entry (or installed snapshot). */
  readonly applied: number;
  readonly appliedTerm: number;
  readonly confState: ConfState;
  applyEntries(entries: readonly Entry[]): void;
  installSnapshot(snapshot: Snapshot): void;
  /**
   * Optional: installs a leader's snapshot one slice per step() (issue 11, defect 3), so the node
   * can yield between slices; the state in force (and `applied`) stays as it was until the step
   * that returns true, and no entry applies meanwhile. Without it, installSnapshot() runs in one go.
   */
  beginInstall?(snapshot: Snapshot): SnapshotInstaller;
  /** Serialises the whole replicated state at `applied`. */
  snapshotData(): Uint8Array;
  /**
   * Optional: freezes the state at `applied` and serialises it one slice per step, so the node can
   * yield between slices (issue 11, defect 3); without it, snapshotData() runs in one go.
   */
  beginSnapshot?(): StateSerialiser;
  /** UNSAFE apply-uncommitted only: applies persisted entries before they commit. */
  applyAhead?(entries: readonly Entry[]): void;
}

/** Installs a snapshot one slice per step(): true once the last step swapped it in. */
export interface SnapshotInstaller {
  step(): boolean;
}

/** Serialises a frozen state one slice per step(): undefined until the last step returns the data. */
export interface StateSerialiser {
  step(): Uint8Array | undefined;
}

export interface LocalSnapshotsOptions {
  rawNode: RawNode;
  log: LogStorage;
  snapshots: SnapshotStorage;
  clock: Clock;
  state: AppliedState;
  logger: Logger;
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
  /** Leader snapshots taken so far: a local snapshot started before a newer one is obsolete. */
  #leaderSnapshotsTaken = 0;
  /** Local snapshots abandoned because a leader's overtook them (for tests and logs). */
  abandoned = 0;
  /** Local snapshots written and compacted (for the log line at shutdown). */
  taken = 0;

  constructor(options: LocalSnapshotsOptions) {
    this.#options = options;
    this.snapshotIndex = options.snapshotIndex;
  }

  /** A Ready carrying a leader's snapshot was taken. */
  onLeaderSnapshotTaken(): void {
    this.#leaderSnapshotsTaken += 1;
  }

  /** A leader's snapshot was installed. */
  onInstalled(index: number): void {
    this.snapshotIndex = Math.max(this.snapshotIndex, index);
  }

  /** Starts a snapshot when one is due; `onDone` runs once it is written and compacted. */
  maybeStart(onDone: () => void, onError: (error: unknown) => void): void {
    const { state, log, clock } = this.#options;
    const applied = state.applied;
    if (this.busy || applied - this.snapshotIndex < this.#options.snapshotEvery) {
      return;
    }
    if (this.#options.leaderSnapshotPending() || applied <= log.snapshotIndex) {
      return; // the leader's snapshot covers at least as much; the next Ready reconsiders
    }
    this.busy = true;
    const leaderSnapshotsBefore = this.#leaderSnapshotsTaken;
    const started = clock.nowMs();
    const metadata: Snapshot["metadata"] = { index: applied, term: state.appliedTerm, confState: { voters: [...state.confState.voters] } };
    const serialiser: StateSerialiser = state.beginSnapshot?.() ?? { step: () => state.snapshotData() };
    const timing = { slices: 0, longestSliceMs: 0 };
    // One slice per turn of the event loop: ticks, heartbeats and Readys run between slices.
    const serialiseSlice = (): void => {
      const sliceStarted = clock.nowMs();
      let data: Uint8Array | undefined;
      try {
        data = serialiser.step();
      } catch (error) {
        this.busy = false;
        onError(error);
        return;
      }
      timing.slices += 1;
      timing.longestSliceMs = Math.max(timing.longestSliceMs, clock.nowMs() - sliceStarted);
      if (data === undefined) {
        clock.defer(serialiseSlice);
        return;
      }
      this.#save({ metadata, data }, leaderSnapshotsBefore, { started, serialisedMs: clock.nowMs() - started, ...timing }, onDone, onError);
    };
    serialiseSlice();
  }

  #save(
    snapshot: Snapshot,
    leaderSnapshotsBefore: number,
    timing: { started: number; serialisedMs: number; slices: number; longestSliceMs: number },
    onDone: () => void,
    onError: (error: unknown) => void,
  ): void {
    const { rawNode, log, logger, clock } = this.#options;
    const applied = snapshot.metadata.index;
    const { data } = snapshot;
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
      if (this.#leaderSnapshotsTaken !== leaderSnapshotsBefore || log.snapshotIndex >= applied) {
        // A leader's snapshot was taken meanwhile: its marker is (or will be) above ours.
        this.busy = false;
        this.abandoned += 1;
        logger.info("abandoned a local snapshot that a snapshot from the leader overtook", { index: applied, leaderSnapshotIndex: log.snapshotIndex });
        onDone();
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
          // A leader's snapshot taken after our marker already replaces the core's log: leave it.
          if (!rawNode.hasPendingSnapshot() && rawNode.raft.log.snapshotIndex < applied) {
            rawNode.compact(applied, data);
          }
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
          this.taken += 1;
          // ms covers everything from serialisation (on the event loop) to compaction.
          logger.info("took a snapshot and compacted the log", {
            index: applied,
            bytes: data.length,
            ms: Math.round(clock.nowMs() - timing.started),
            serialiseMs: Math.round(timing.serialisedMs),
            serialiseSlices: timing.slices,
            longestSliceMs: Math.round(timing.longestSliceMs),
          });
          onDone();
        });
      });
    });
  }
}
