// WAL segment files: <data>/wal/<16-digit first index>.wal. The name is the index the segment's
// first entry was expected to have when it was created; names only order segments, so replay
// never trusts them for content.
import { open, readdir } from "node:fs/promises";
import path from "node:path";

const SEGMENT_NAME = /^(\d{16})\.wal$/;

export interface SegmentFile {
  /** Number in the file name; strictly increasing across a log's segments. */
  sequence: number;
  path: string;
}

export function segmentFileName(sequence: number): string {
  if (!(Number.isSafeInteger(sequence) && sequence >= 0 && sequence < 1e16)) {
    throw new RangeError(`invariant: segment sequence ${sequence} does not fit 16 digits`);
  }
  return `${String(sequence).padStart(16, "0")}.wal`;
}

/** Segments in `walDirectory`, oldest first, plus names that are not segments (left alone). */
export async function listSegments(walDirectory: string): Promise<{ segments: SegmentFile[]; strangers: string[] }> {
  const segments: SegmentFile[] = [];
  const strangers: string[] = [];
  for (const name of await readdir(walDirectory)) {
    const match = SEGMENT_NAME.exec(name);
    if (match === null) {
      strangers.push(name);
    } else {
      segments.push({ sequence: Number(match[1]), path: path.join(walDirectory, name) });
    }
  }
  segments.sort((a, b) => a.sequence - b.sequence);
  return { segments, strangers };
}

/** fsync a directory so creations, renames and deletions in it survive a crash. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
