// The retained Raft log: a snapshot boundary plus every later entry, in memory (etcd log.go
// without a Storage interface: the server recovers entries from disk and hands them over).
import type { ConfState, Entry, Snapshot } from "./messages.js";
import { assert } from "../../lib/assert.js";
import { UnstableLog } from "./unstable-log.js";

export interface TermHint {
  index: number;
  term: number;
}

export class RaftLog {
  /** Index and term of the last entry covered by the snapshot (0/0 before any compaction). */
  snapshotIndex: number;
  snapshotTerm: number;
  /** The newest snapshot, kept to send to followers behind the first retained index. */
  snapshot: Snapshot | undefined;
  /** entries[i] has index snapshotIndex + 1 + i. */
  entries: Entry[];
  /** Invariant: snapshotIndex <= applied <= applying <= committed <= lastIndex. */
  committed: number;
  /** Highest index handed to the application in a Ready. */
  applying: number;
  /** Highest index the application confirmed applied (advance). */
  applied: number;
  readonly unstable: UnstableLog;

  constructor(snapshot: Snapshot | undefined, entries: Entry[], committed: number, applied: number) {
    this.snapshot = snapshot;
    this.snapshotIndex = snapshot?.metadata.index ?? 0;
    this.snapshotTerm = snapshot?.metadata.term ?? 0;
    for (let i = 0; i < entries.length; i++) {
      assert(
        entries[i]?.index === this.snapshotIndex + 1 + i,
        `log: recovered entry ${i} has index ${entries[i]?.index}, expected ${this.snapshotIndex + 1 + i}`,
      );
    }
    this.entries = entries.slice();
    assert(committed >= this.snapshotIndex && committed <= this.lastIndex(), `log: commit ${committed} outside [${this.snapshotIndex}, ${this.lastIndex()}]`);
    assert(applied >= this.snapshotIndex && applied <= committed, `log: applied ${applied} outside [${this.snapshotIndex}, ${committed}]`);
    this.committed = committed;
    this.applying = applied;
    this.applied = applied;
    this.unstable = new UnstableLog(this.lastIndex() + 1);
  }

  firstIndex(): number {
    return this.snapshotIndex + 1;
  }

  lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }

  lastTerm(): number {
    const last = this.entries[this.entries.length - 1];
    return last === undefined ? this.snapshotTerm : last.term;
  }

  /** The term at index, or undefined when compacted away or beyond the last entry. */
  term(index: number): number | undefined {
    if (index === this.snapshotIndex) {
      return this.snapshotTerm;
    }
    const entry = this.entries[index - this.snapshotIndex - 1];
    return entry?.term;
  }

  entryAt(index: number): Entry | undefined {
    return this.entries[index - this.snapshotIndex - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** §5.4.1: a candidate's log is at least as up-to-date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Follower append: if our entry at prevIndex has prevTerm, drop any conflicting suffix, append
   * what is new and commit up to min(leaderCommit, last new index). Returns the last new index,
   * or undefined on a mismatch at prevIndex. `keepConflicts` is the unsafe append-without-truncate
   * switch: entries we already hold at an index are kept even when their term differs, and only
   * what lies past our last index is appended.
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, entries: readonly Entry[], keepConflicts = false): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) {
      return undefined;
    }
    const lastNewIndex = prevIndex + entries.length;
    const conflictIndex = keepConflicts ? firstNewIndex(entries, this.lastIndex()) : this.findConflict(entries);
    if (conflictIndex !== 0) {
      assert(conflictIndex > this.committed, "log: a conflicting entry at or below the commit index");
      this.append(entries, conflictIndex - prevIndex - 1);
    }
    this.commitTo(Math.min(leaderCommit, lastNewIndex));
    return lastNewIndex;
  }

  /** The index of the first entry that is new or disagrees with ours; 0 if all are present. */
  findConflict(entries: readonly Entry[]): number {
    const first = entries[0];
    const last = entries[entries.length - 1];
    if (first === undefined || last === undefined) {
      return 0;
    }
    // Fast paths for the common cases: all new (streaming), or all present (a duplicate).
    if (first.index > this.lastIndex()) {
      return first.index;
    }
    if (this.term(last.index) === last.term) {
      return 0; // Log Matching: a matching last entry means every earlier one matches too
    }
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as Entry;
      if (this.term(entry.index) !== entry.term) {
        return entry.index;
      }
    }
    return 0;
  }

  /**
   * The last index <= index whose term is <= term, with its term: where a log that has `term` at
   * `index` can agree with ours at the earliest (fast backtracking, one round trip per term).
   */
  findConflictByTerm(index: number, term: number): TermHint {
    let at = Math.min(index, this.lastIndex());
    for (; at > this.snapshotIndex; at--) {
      const ourTerm = this.term(at) as number;
      if (ourTerm <= term) {
        return { index: at, term: ourTerm };
      }
    }
    return { index: at, term: this.term(at) ?? 0 };
  }

  /** Writes entries[from..] at their indexes, truncating whatever followed. */
  append(entries: readonly Entry[], from = 0): void {
    const first = entries[from];
    if (first === undefined) {
      return;
    }
    const position = first.index - this.snapshotIndex - 1;
    assert(position >= 0 && position <= this.entries.length, "log: append leaves a gap or rewrites the snapshot");
    assert(first.index > this.committed, "log: append overwrites a committed entry");
    if (position < this.entries.length) {
      this.entries.length = position;
    }
    if (from === 0 && entries.length > 16) {
      // One bulk push per chunk is much cheaper than a push per entry for big batches.
      for (let start = 0; start < entries.length; start += 8192) {
        Array.prototype.push.apply(this.entries, entries.slice(start, start + 8192) as Entry[]);
      }
    } else {
      for (let i = from; i < entries.length; i++) {
        this.entries.push(entries[i] as Entry);
      }
    }
    this.unstable.truncatedAt(first.index);
  }

  commitTo(index: number): void {
    if (index > this.committed) {
      assert(index <= this.lastIndex(), "log: commit beyond the last index");
      this.committed = index;
    }
  }

  /** Entries in [low, high], at most maxEntries and about maxBytes of data (at least one entry). */
  slice(low: number, high: number, maxEntries: number, maxBytes: number): Entry[] {
    assert(low > this.snapshotIndex, "log: slice of compacted entries");
    const end = Math.min(high, this.lastIndex(), low + maxEntries - 1);
    if (end < low) {
      return [];
    }
    const base = this.snapshotIndex + 1;
    let bytes = 0;
    let stop = low;
    for (; stop <= end; stop++) {
      bytes += (this.entries[stop - base] as Entry).data.length;
      if (bytes > maxBytes && stop > low) {
        break;
      }
    }
    return this.entries.slice(low - base, stop - base);
  }

  hasNextCommittedEntries(): boolean {
    return this.committed > this.applying && this.unstable.snapshot === undefined;
  }

  nextCommittedEntries(): Entry[] {
    if (!this.hasNextCommittedEntries()) {
      return [];
    }
    const base = this.snapshotIndex + 1;
    return this.entries.slice(this.applying + 1 - base, this.committed + 1 - base);
  }

  /** The next unpersisted entries not yet handed out. */
  nextUnstableEntries(): Entry[] {
    const from = this.unstable.offsetInProgress;
    if (from > this.lastIndex()) {
      return [];
    }
    return this.entries.slice(from - this.snapshotIndex - 1);
  }

  hasNextUnstableEntries(): boolean {
    return this.unstable.offsetInProgress <= this.lastIndex();
  }

  hasUnappliedConfChanges(): boolean {
    for (let index = this.applied + 1; index <= this.committed; index++) {
      if (this.entryAt(index)?.type === "confChange") {
        return true;
      }
    }
    return false;
  }

  appliedTo(index: number): void {
    assert(index <= this.committed, "log: applied beyond the commit index");
    if (index > this.applied) {
      this.applied = index;
    }
    if (this.applying < this.applied) {
      this.applying = this.applied;
    }
  }

  /** Replaces the whole log by a snapshot from the leader (its index is above our commit). */
  restore(snapshot: Snapshot): void {
    const index = snapshot.metadata.index;
    assert(index > this.committed, "log: restoring a snapshot at or below the commit index");
    this.entries = [];
    this.snapshot = snapshot;
    this.snapshotIndex = index;
    this.snapshotTerm = snapshot.metadata.term;
    this.committed = index;
    this.applying = index;
    this.unstable.restore(snapshot);
  }

  /** The application's state at index (<= applied) is in `data`: drop entries up to index. */
  compact(index: number, data: Uint8Array, confState: ConfState): void {
    assert(index <= this.applied, `log: compact(${index}) beyond applied ${this.applied}`);
    assert(index < this.unstable.offset, "log: compacting unpersisted entries");
    if (index <= this.snapshotIndex) {
      return;
    }
    const term = this.term(index);
    assert(term !== undefined, "log: compact index has no term");
    this.entries = this.entries.slice(index - this.snapshotIndex);
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    this.snapshot = { metadata: { index, term, confState: { voters: [...confState.voters] } }, data };
  }
}

/** The index of the first entry past lastIndex; 0 if there is none. */
function firstNewIndex(entries: readonly Entry[], lastIndex: number): number {
  const last = entries[entries.length - 1];
  return last === undefined || last.index <= lastIndex ? 0 : Math.max(lastIndex + 1, (entries[0] as Entry).index);
}
