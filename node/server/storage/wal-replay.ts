// Rebuilds the log from WAL records in write order: the latest hard state wins, an entry at index
// i replaces everything from i on (Raft conflict truncation), and a snapshot marker drops what it
// covers. Pure: file-log.ts feeds it records and checks its result.
import type { Entry, HardState } from "../../raft/messages.js";
import type { SnapshotMarker, WalRecord } from "./wal-record.js";

export class WalReplay {
  hardState: HardState | undefined;
  snapshot: { index: number; term: number } | undefined;
  /** Consecutive entries, entries[k].index === firstIndex + k. */
  entries: Entry[] = [];

  get lastIndex(): number {
    const last = this.entries[this.entries.length - 1];
    return last === undefined ? (this.snapshot?.index ?? 0) : last.index;
  }

  apply(record: WalRecord): void {
    switch (record.kind) {
      case "entry":
        this.#applyEntry(record.entry);
        break;
      case "hardState":
        this.hardState = record.hardState;
        break;
      case "snapshotMarker":
        this.#applyMarker(record.marker);
        break;
    }
  }

  /** Where the surviving entries should start for the log to be complete. */
  get expectedFirstIndex(): number {
    return (this.snapshot?.index ?? 0) + 1;
  }

  #applyEntry(entry: Entry): void {
    if (this.snapshot !== undefined && entry.index <= this.snapshot.index) {
      return; // covered by a snapshot marker replayed earlier (written before compaction)
    }
    const first = this.entries[0];
    if (first === undefined) {
      this.entries.push(entry);
      return;
    }
    const last = first.index + this.entries.length - 1;
    if (entry.index <= last) {
      this.entries.length = Math.max(0, entry.index - first.index);
    } else if (entry.index > last + 1) {
      // The entries between were in segments compaction deleted: fine if a later marker covers
      // the gap; file-log.ts's final check decides.
      this.entries = [];
    }
    this.entries.push(entry);
  }

  #applyMarker(marker: SnapshotMarker): void {
    this.snapshot = { index: marker.index, term: marker.term };
    // A retained suffix not starting at index + 1 means entries are missing; the final check in
    // file-log.ts reports it unless a later marker covers the hole.
    this.entries = this.entries.filter((entry) => entry.index > marker.index && entry.index <= marker.retainedThrough);
  }
}
