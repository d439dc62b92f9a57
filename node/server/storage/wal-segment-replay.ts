// Replay of WAL segment files when the log opens: scans each segment's records into a WalReplay,
// cuts a torn tail off the last segment, and rejects damage a crash cannot explain.
import { open, readFile } from "node:fs/promises";
import { CodecError } from "../../../lib/binary-cursor.js";
import type { Logger } from "../../../lib/logger.js";
import { StorageError } from "./storage-error.js";
import { hasValidRecordAfter, readRecordAt } from "./wal-record.js";
import type { WalReplay } from "./wal-replay.js";

/** Where a torn tail was cut off the last segment. */
export interface TruncatedTail {
  path: string;
  offset: number;
  bytesDropped: number;
}

export async function replaySegment(
  segmentPath: string,
  isLast: boolean,
  replay: WalReplay,
  logger: Logger,
): Promise<{ maxEntryIndex: number; validBytes: number; truncatedTail?: TruncatedTail | undefined }> {
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

export function checkReplayResult(replay: WalReplay, walDirectory: string): void {
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
