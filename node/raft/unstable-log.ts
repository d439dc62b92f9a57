// Which part of the in-memory log is not yet durable. The core keeps every retained entry in
// memory (RaftLog); this only tracks the unpersisted suffix and a snapshot awaiting persistence,
// plus how much of it a Ready has already handed out (so the next Ready does not repeat it).
import type { Snapshot } from "./messages.js";
import { assert } from "../../lib/assert.js";

export class UnstableLog {
  /** First index not yet persisted. */
  offset: number;
  /** First index not yet handed out in a Ready. Invariant: offset <= offsetInProgress. */
  offsetInProgress: number;
  /** A snapshot received from the leader, to persist and install. */
  snapshot: Snapshot | undefined = undefined;
  snapshotInProgress = false;

  constructor(firstUnstableIndex: number) {
    this.offset = firstUnstableIndex;
    this.offsetInProgress = firstUnstableIndex;
  }

  /** Entries from `index` on were (re)written in memory. */
  truncatedAt(index: number): void {
    if (index < this.offset) {
      this.offset = index;
    }
    if (index < this.offsetInProgress) {
      this.offsetInProgress = index;
    }
  }

  /** A Ready handed out entries up to lastIndex and the pending snapshot. */
  acceptInProgress(lastIndex: number): void {
    assert(lastIndex + 1 >= this.offsetInProgress, "unstable: in-progress offset moves forward");
    this.offsetInProgress = lastIndex + 1;
    if (this.snapshot !== undefined) {
      this.snapshotInProgress = true;
    }
  }

  /** Entries up to index were persisted, if they were not overwritten since (termMatches). */
  stableTo(index: number, termMatches: boolean): void {
    if (!termMatches || index < this.offset) {
      return;
    }
    this.offset = index + 1;
    if (this.offsetInProgress < this.offset) {
      this.offsetInProgress = this.offset;
    }
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1;
    this.offsetInProgress = this.offset;
    this.snapshot = snapshot;
    this.snapshotInProgress = false;
  }

  stableSnapshotTo(index: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === index) {
      this.snapshot = undefined;
      this.snapshotInProgress = false;
    }
  }
}
