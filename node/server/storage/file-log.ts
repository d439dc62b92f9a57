// The write-ahead log: Raft entries, hard states and snapshot markers in append-only segment files
// under <data>/wal/. Group commit: the server appends each Ready (one buffer, one write) and then
// calls sync() once (one fdatasync). Recovery replays every record in order, cuts a torn tail off
// the last segment, and refuses to start on damage a crash cannot explain.
//
// Every method does its checks and updates the in-memory state synchronously, before its first
// await, so calls may be issued without awaiting each other; the I/O runs in call order.
//
// Snapshot protocol for the server: save the snapshot file (snapshot-store.ts) first, then
// markSnapshot() + sync(), then compact(). A marker therefore never names a snapshot that is not
// on disk; a snapshot newer than the WAL's marker is harmless (the log still covers it).
import { assert } from "../../../lib/assert.js";
import { mkdir, unlink } from "node:fs/promises";
import path from "node:path";
import type { Entry, HardState } from "../../raft/messages.js";
import { StorageError } from "./storage-error.js";
import { silentLogger, type Logger } from "../../../lib/logger.js";
import { encodeRecords, type WalRecord } from "./wal-record.js";
import { WalReplay } from "./wal-replay.js";
import { directFiles, type FileSystem, type WritableFile } from "./files.js";
import type { Failpoints } from "../failpoints.js";
import { listSegments, segmentFileName, syncDirectory } from "./wal-segment.js";
import { checkReplayResult, replaySegment, type TruncatedTail } from "./wal-segment-replay.js";
import { WalIoQueue } from "./wal-io-queue.js";

export const DEFAULT_SEGMENT_BYTES_MAX = 64 * 1024 * 1024;

export interface FileLogOptions {
  logger?: Logger;
  /** A segment is closed and a new one started once a write would take it past this size. */
  segmentBytesMax?: number;
  /** How segments are opened for writing (default: directly; powerLossFiles under test). */
  files?: FileSystem;
  /** beforeWalWrite, afterWalWrite, beforeFsync and afterFsync are hit here when armed. */
  failpoints?: Failpoints;
}

export interface SnapshotPosition {
  index: number;
  term: number;
}

/** What open() found on disk. */
export interface WalRecovery {
  hardState: HardState | undefined;
  /** Consecutive entries following the snapshot (or starting at index 1 without one). */
  entries: Entry[];
  /** The latest snapshot marker: entries at or below its index live only in the snapshot. */
  snapshot: SnapshotPosition | undefined;
  /** Set when a torn tail was cut off the last segment. */
  truncatedTail: TruncatedTail | undefined;
}

interface Segment {
  sequence: number;
  path: string;
  /** Highest entry index written to this segment (0: none); compaction deletes it once <= snapshot. */
  maxEntryIndex: number;
}

export class FileLog {
  readonly recovery: WalRecovery;
  readonly #walDirectory: string;
  readonly #logger: Logger;
  readonly #segmentBytesMax: number;
  /** Live segments, oldest first; the last one is being written. */
  readonly #segments: Segment[];

  // Logical state, updated when a call is made (I/O follows in call order through #io).
  #snapshot: SnapshotPosition | undefined;
  #hardState: HardState | undefined;
  /** Invariant: #terms[k] is the term of entry #snapshotIndex + 1 + k; its length is #lastIndex - #snapshotIndex. */
  #terms: number[];
  #lastIndex: number;
  /** Bytes the current segment will hold once queued writes finish. */
  #segmentBytes: number;
  /** Bytes of state records that begin the current segment (a segment of only these is "empty"). */
  #segmentHeaderBytes = 0;
  #closed = false;

  // I/O runs in call order on this queue (the segment handle lives there).
  readonly #io: WalIoQueue;

  private constructor(init: {
    walDirectory: string;
    logger: Logger;
    segmentBytesMax: number;
    segments: Segment[];
    handle: WritableFile;
    files: FileSystem;
    failpoints: Failpoints | undefined;
    segmentBytes: number;
    replay: WalReplay;
    truncatedTail: WalRecovery["truncatedTail"];
  }) {
    this.#walDirectory = init.walDirectory;
    this.#logger = init.logger;
    this.#segmentBytesMax = init.segmentBytesMax;
    this.#segments = init.segments;
    this.#io = new WalIoQueue({
      walDirectory: init.walDirectory,
      logger: init.logger,
      files: init.files,
      failpoints: init.failpoints,
      handle: init.handle,
      position: init.segmentBytes,
    });
    this.#segmentBytes = init.segmentBytes;
    const { replay } = init;
    this.#snapshot = replay.snapshot;
    this.#hardState = replay.hardState;
    this.#terms = replay.entries.map((entry) => entry.term);
    this.#lastIndex = replay.lastIndex;
    this.recovery = { hardState: replay.hardState, entries: replay.entries, snapshot: replay.snapshot, truncatedTail: init.truncatedTail };
  }

  /** Opens (creating if needed) the WAL in `<dataDirectory>/wal` and recovers its contents. */
  static async open(dataDirectory: string, options: FileLogOptions = {}): Promise<FileLog> {
    const logger = options.logger ?? silentLogger;
    const segmentBytesMax = options.segmentBytesMax ?? DEFAULT_SEGMENT_BYTES_MAX;
    assert(Number.isSafeInteger(segmentBytesMax) && segmentBytesMax > 0, `segmentBytesMax must be a positive integer, got ${segmentBytesMax}`);
    const walDirectory = path.join(dataDirectory, "wal");
    if ((await mkdir(walDirectory, { recursive: true })) !== undefined) {
      await syncDirectory(dataDirectory);
    }
    const { segments: files, strangers } = await listSegments(walDirectory);
    for (const name of strangers) {
      logger.warn("wal: ignoring a file that is not a segment", { path: path.join(walDirectory, name) });
    }
    const replay = new WalReplay();
    const segments: Segment[] = [];
    let truncatedTail: WalRecovery["truncatedTail"];
    let lastSegmentBytes = 0;
    for (const [position, file] of files.entries()) {
      const isLast = position === files.length - 1;
      const scanned = await replaySegment(file.path, isLast, replay, logger);
      segments.push({ sequence: file.sequence, path: file.path, maxEntryIndex: scanned.maxEntryIndex });
      truncatedTail = scanned.truncatedTail ?? truncatedTail;
      lastSegmentBytes = scanned.validBytes;
    }
    checkReplayResult(replay, walDirectory);

    const fileSystem = options.files ?? directFiles;
    let handle: WritableFile;
    const last = segments[segments.length - 1];
    if (last === undefined) {
      const sequence = replay.lastIndex + 1;
      const segmentPath = path.join(walDirectory, segmentFileName(sequence));
      handle = await fileSystem.open(segmentPath, "wx", { durableWrites: true });
      await syncDirectory(walDirectory);
      segments.push({ sequence, path: segmentPath, maxEntryIndex: 0 });
      lastSegmentBytes = 0;
    } else {
      handle = await fileSystem.open(last.path, "r+", { durableWrites: true });
    }
    logger.info("wal: recovered", {
      directory: walDirectory,
      segments: segments.length,
      entries: replay.entries.length,
      lastIndex: replay.lastIndex,
      snapshotIndex: replay.snapshot?.index ?? 0,
    });
    return new FileLog({
      walDirectory,
      logger,
      segmentBytesMax,
      segments,
      handle,
      segmentBytes: lastSegmentBytes,
      replay,
      truncatedTail,
      files: fileSystem,
      failpoints: options.failpoints,
    });
  }

  get lastIndex(): number {
    return this.#lastIndex;
  }

  /** Disk rounds that answered sync() since the log opened (group commit makes one for several syncs). */
  get syncRounds(): number {
    return this.#io.syncRounds;
  }

  /** Index of the latest snapshot marker (0 without one). */
  get snapshotIndex(): number {
    return this.#snapshot?.index ?? 0;
  }

  /** Paths of the live segments, oldest first. */
  get segmentPaths(): readonly string[] {
    return this.#segments.map((segment) => segment.path);
  }

  /** Term of the entry at `index` as far as this log knows, or undefined outside it. */
  termAt(index: number): number | undefined {
    const snapshotIndex = this.snapshotIndex;
    if (index === snapshotIndex) {
      return this.#snapshot?.term ?? 0;
    }
    if (index < snapshotIndex || index > this.#lastIndex) {
      return undefined;
    }
    return this.#terms[index - snapshotIndex - 1];
  }

  /**
   * Writes `entries` (an entry at an index <= lastIndex replaces that index and everything after
   * it) and then `hardState`, as one buffer in one write. Not durable until sync().
   */
  async append(entries: readonly Entry[], hardState?: HardState): Promise<void> {
    const refused = this.#refusal();
    if (refused !== undefined) {
      throw refused;
    }
    const first = entries[0];
    if (first !== undefined) {
      assert(first.index > this.snapshotIndex, `append: entry ${first.index} is at or below the snapshot index ${this.snapshotIndex}`);
      assert(first.index <= this.#lastIndex + 1, `append: entry ${first.index} would leave a hole after last index ${this.#lastIndex}`);
      entries.forEach((entry, k) => assert(entry.index === first.index + k, `append: entries not contiguous at position ${k} (index ${entry.index})`));
    }
    const records: WalRecord[] = entries.map((entry) => ({ kind: "entry", entry }));
    if (hardState !== undefined) {
      records.push({ kind: "hardState", hardState });
    }
    if (records.length === 0) {
      return;
    }
    const buffer = encodeRecords(records);
    this.#maybeRoll(buffer.length);
    if (first !== undefined) {
      this.#terms.length = first.index - this.snapshotIndex - 1;
      for (const entry of entries) {
        this.#terms.push(entry.term);
      }
      this.#lastIndex = first.index + entries.length - 1;
      const current = this.#segments[this.#segments.length - 1]!;
      current.maxEntryIndex = Math.max(current.maxEntryIndex, this.#lastIndex);
    }
    if (hardState !== undefined) {
      this.#hardState = hardState;
    }
    return this.#queueWrite(buffer);
  }

  /**
   * Records that a snapshot now covers the log up to `snapshot.index`. Entries after it are kept
   * only if this log holds the snapshot's entry with the same term (Raft §7); otherwise the log
   * becomes empty after the snapshot. Not durable until sync().
   */
  async markSnapshot(snapshot: SnapshotPosition): Promise<void> {
    const refused = this.#refusal();
    if (refused !== undefined) {
      throw refused;
    }
    assert(snapshot.index >= this.snapshotIndex, `markSnapshot: index ${snapshot.index} is below the current snapshot ${this.snapshotIndex}`);
    const keepSuffix = this.termAt(snapshot.index) === snapshot.term;
    const retainedThrough = keepSuffix ? this.#lastIndex : snapshot.index;
    const buffer = encodeRecords([{ kind: "snapshotMarker", marker: { index: snapshot.index, term: snapshot.term, retainedThrough } }]);
    this.#maybeRoll(buffer.length);
    this.#terms = keepSuffix ? this.#terms.slice(snapshot.index - this.snapshotIndex) : [];
    this.#snapshot = { index: snapshot.index, term: snapshot.term };
    this.#lastIndex = retainedThrough;
    return this.#queueWrite(buffer);
  }

  /** Makes everything written so far durable with one fdatasync of the current segment. */
  async sync(): Promise<void> {
    const refused = this.#refusal();
    if (refused !== undefined) {
      throw refused;
    }
    return this.#io.sync();
  }

  /**
   * Deletes the oldest segments whose entries are all at or below `snapshotIndex`, which must not
   * exceed the latest marker. Never deletes the segment being written. Returns how many it deletes.
   */
  async compact(snapshotIndex: number): Promise<number> {
    const refused = this.#refusal();
    if (refused !== undefined) {
      throw refused;
    }
    assert(snapshotIndex <= this.snapshotIndex, `compact(${snapshotIndex}) is past the latest snapshot marker ${this.snapshotIndex}`);
    let count = 0;
    while (count < this.#segments.length - 1 && this.#segments[count]!.maxEntryIndex <= snapshotIndex) {
      count += 1;
    }
    const doomed = this.#segments.splice(0, count);
    if (doomed.length === 0) {
      return 0;
    }
    return this.#io
      .run(async () => {
        for (const segment of doomed) {
          await unlink(segment.path);
        }
        await syncDirectory(this.#walDirectory);
        this.#logger.info("wal: compacted", { snapshotIndex, deleted: doomed.map((segment) => segment.path) });
      })
      .then(() => doomed.length);
  }

  /** Waits for queued writes, then closes the segment. Does not sync: call sync() first if needed. */
  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    await this.#io.close();
  }

  #refusal(): StorageError | undefined {
    if (this.#closed) {
      return new StorageError("WAL_CLOSED", `${this.#walDirectory}: the log is closed`);
    }
    return this.#io.failure();
  }

  /** Starts a new segment before a write of `nextBytes` that would overflow the current one. */
  #maybeRoll(nextBytes: number): void {
    const hasPayload = this.#segmentBytes > this.#segmentHeaderBytes;
    if (!hasPayload || this.#segmentBytes + nextBytes <= this.#segmentBytesMax) {
      return;
    }
    const previous = this.#segments[this.#segments.length - 1]!;
    const sequence = Math.max(this.#lastIndex + 1, previous.sequence + 1);
    const segmentPath = path.join(this.#walDirectory, segmentFileName(sequence));
    // Every segment starts with the current state, so deleting older segments never loses it.
    const header: WalRecord[] = [];
    if (this.#hardState !== undefined) {
      header.push({ kind: "hardState", hardState: this.#hardState });
    }
    if (this.#snapshot !== undefined) {
      header.push({ kind: "snapshotMarker", marker: { ...this.#snapshot, retainedThrough: this.#lastIndex } });
    }
    const headerBuffer = encodeRecords(header);
    this.#segments.push({ sequence, path: segmentPath, maxEntryIndex: 0 });
    this.#segmentBytes = headerBuffer.length;
    this.#segmentHeaderBytes = headerBuffer.length;
    void this.#io.startSegment(segmentPath, headerBuffer).catch(() => undefined); // the failure poisons the log; the next call reports it
  }

  #queueWrite(buffer: Buffer): Promise<void> {
    this.#segmentBytes += buffer.length;
    return this.#io.write(buffer);
  }
}
