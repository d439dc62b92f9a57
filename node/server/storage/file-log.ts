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
import { mkdir, open, readFile, unlink } from "node:fs/promises";
import path from "node:path";
import type { Entry, HardState } from "../../raft/messages.js";
import { CodecError } from "../../../lib/binary-cursor.js";
import { StorageError } from "./storage-error.js";
import { silentLogger, type Logger } from "../../../lib/logger.js";
import { encodeRecords, hasValidRecordAfter, readRecordAt, type WalRecord } from "./wal-record.js";
import { WalReplay } from "./wal-replay.js";
import { directFiles, type FileSystem, type WritableFile } from "./files.js";
import type { Failpoints } from "../failpoints.js";
import { listSegments, segmentFileName, syncDirectory } from "./wal-segment.js";

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
  truncatedTail: { path: string; offset: number; bytesDropped: number } | undefined;
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

  // Logical state, updated when a call is made (I/O follows in call order through #ioTail).
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

  // I/O state, touched only by operations running on #ioTail.
  #handle: WritableFile;
  readonly #files: FileSystem;
  readonly #failpoints: Failpoints | undefined;
  #ioPosition: number;
  #ioTail: Promise<void> = Promise.resolve();
  #ioFailure: unknown;

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
    this.#handle = init.handle;
    this.#files = init.files;
    this.#failpoints = init.failpoints;
    this.#segmentBytes = init.segmentBytes;
    this.#ioPosition = init.segmentBytes;
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
      handle = await fileSystem.open(segmentPath, "wx");
      await syncDirectory(walDirectory);
      segments.push({ sequence, path: segmentPath, maxEntryIndex: 0 });
      lastSegmentBytes = 0;
    } else {
      handle = await fileSystem.open(last.path, "r+");
    }
    logger.info("wal: recovered", {
      directory: walDirectory,
      segments: segments.length,
      entries: replay.entries.length,
      lastIndex: replay.lastIndex,
      snapshotIndex: replay.snapshot?.index ?? 0,
    });
    return new FileLog({ walDirectory, logger, segmentBytesMax, segments, handle, segmentBytes: lastSegmentBytes, replay, truncatedTail, files: fileSystem, failpoints: options.failpoints });
  }

  get lastIndex(): number {
    return this.#lastIndex;
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
    return this.#queueIo(async () => {
      await this.#failpoints?.hit("beforeFsync");
      await this.#handle.datasync();
      await this.#failpoints?.hit("afterFsync");
    });
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
    return this.#queueIo(async () => {
      for (const segment of doomed) {
        await unlink(segment.path);
      }
      await syncDirectory(this.#walDirectory);
      this.#logger.info("wal: compacted", { snapshotIndex, deleted: doomed.map((segment) => segment.path) });
    }).then(() => doomed.length);
  }

  /** Waits for queued writes, then closes the segment. Does not sync: call sync() first if needed. */
  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    await this.#ioTail;
    await this.#handle.close();
  }

  #refusal(): StorageError | undefined {
    if (this.#closed) {
      return new StorageError("WAL_CLOSED", `${this.#walDirectory}: the log is closed`);
    }
    if (this.#ioFailure !== undefined) {
      return walFailed(this.#walDirectory, this.#ioFailure);
    }
    return undefined;
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
    void this.#queueIo(async () => {
      // The old segment must be durable before records land in the new one.
      await this.#handle.datasync();
      await this.#handle.close();
      this.#handle = await this.#files.open(segmentPath, "wx");
      this.#ioPosition = 0;
      await syncDirectory(this.#walDirectory);
      await this.#writeAll(headerBuffer);
      this.#logger.info("wal: started segment", { path: segmentPath });
    }).catch(() => undefined); // the failure poisons the log; the next call reports it
  }

  #queueWrite(buffer: Buffer): Promise<void> {
    this.#segmentBytes += buffer.length;
    return this.#queueIo(() => this.#writeAll(buffer));
  }

  async #writeAll(buffer: Buffer): Promise<void> {
    await this.#failpoints?.hit("beforeWalWrite");
    let written = 0;
    while (written < buffer.length) {
      const { bytesWritten } = await this.#handle.write(buffer, written, buffer.length - written, this.#ioPosition);
      written += bytesWritten;
      this.#ioPosition += bytesWritten;
    }
    await this.#failpoints?.hit("afterWalWrite");
  }

  /** Runs `operation` after all earlier ones; after any I/O failure every later one fails too. */
  #queueIo(operation: () => Promise<void>): Promise<void> {
    const result = this.#ioTail.then(async () => {
      if (this.#ioFailure !== undefined) {
        throw walFailed(this.#walDirectory, this.#ioFailure);
      }
      try {
        await operation();
      } catch (error) {
        // After a failed write or fsync the file's contents are unknown (fsync errors are not
        // retried: the kernel may have dropped the dirty pages). Stop here.
        this.#ioFailure = error;
        this.#logger.error("wal: I/O failed; the log refuses further writes", { directory: this.#walDirectory, error: String(error) });
        throw walFailed(this.#walDirectory, error);
      }
    });
    this.#ioTail = result.catch(() => undefined);
    return result;
  }
}

function walFailed(directory: string, cause: unknown): StorageError {
  return new StorageError("WAL_FAILED", `${directory}: an earlier write or fsync failed (${String(cause)})`, { cause });
}

async function replaySegment(
  segmentPath: string,
  isLast: boolean,
  replay: WalReplay,
  logger: Logger,
): Promise<{ maxEntryIndex: number; validBytes: number; truncatedTail?: WalRecovery["truncatedTail"] }> {
  const bytes = await readFile(segmentPath);
  let offset = 0;
  let maxEntryIndex = 0;
  for (;;) {
    let scan: ReturnType<typeof readRecordAt>;
    try {
      scan = readRecordAt(bytes, offset, `${segmentPath} record at byte offset ${offset}`);
    } catch (error) {
      if (error instanceof CodecError) {
        throw new StorageError("CORRUPT_WAL", `${segmentPath} at byte offset ${offset}: a record with a valid checksum does not decode (${error.message})`);
      }
      throw error;
    }
    if (scan.status === "end") {
      return { maxEntryIndex, validBytes: offset };
    }
    if (scan.status === "damaged") {
      if (!isLast) {
        throw new StorageError("CORRUPT_WAL", `${segmentPath} at byte offset ${offset}: ${scan.reason}; later segments exist, so this is not a torn write`);
      }
      if (hasValidRecordAfter(bytes, offset)) {
        throw new StorageError("CORRUPT_WAL", `${segmentPath} at byte offset ${offset}: ${scan.reason}; valid records follow, so this is not a torn write`);
      }
      const bytesDropped = bytes.length - offset;
      logger.warn("wal: truncating a torn tail left by a crash", { path: segmentPath, offset, bytesDropped, reason: scan.reason });
      const handle = await open(segmentPath, "r+");
      try {
        await handle.truncate(offset);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      return { maxEntryIndex, validBytes: offset, truncatedTail: { path: segmentPath, offset, bytesDropped } };
    }
    replay.apply(scan.record);
    if (scan.record.kind === "entry") {
      maxEntryIndex = Math.max(maxEntryIndex, scan.record.entry.index);
    }
    offset = scan.nextOffset;
  }
}

function checkReplayResult(replay: WalReplay, walDirectory: string): void {
  const first = replay.entries[0];
  if (first !== undefined && first.index !== replay.expectedFirstIndex) {
    throw new StorageError(
      "CORRUPT_WAL",
      `${walDirectory}: entries resume at index ${first.index} but the log before them ends at ${replay.expectedFirstIndex - 1} (a segment is missing)`,
    );
  }
  const commit = replay.hardState?.commit ?? 0;
  if (commit > replay.lastIndex) {
    throw new StorageError("CORRUPT_WAL", `${walDirectory}: hard state commit ${commit} is past the last recovered index ${replay.lastIndex}`);
  }
}
