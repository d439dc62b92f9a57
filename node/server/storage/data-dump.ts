// A read-only account of a node's data directory, for `raftlab wal dump` (cli/wal-dump.ts): every
// snapshot file, every WAL record in write order with its offset, damage where a segment stops
// reading (a torn tail a crash leaves, or corruption with valid records after it), and the hard
// state the node would recover. Unlike recovery (file-log.ts) it never truncates or writes, and it
// never throws on damage: damage is reported as a line.
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { CodecError } from "../../../lib/binary-cursor.js";
import type { HardState } from "../../raft/messages.js";
import { decodeSnapshotFile } from "./snapshot-store.js";
import { hasValidRecordAfter, readRecordAt, type WalRecord } from "./wal-record.js";
import { listSegments } from "./wal-segment.js";

/** One snapshot file: what its metadata says, or why it cannot be read. */
export type SnapshotFileLine =
  | {
      kind: "snapshot";
      file: string;
      index: number;
      term: number;
      voters: number[];
      /** Bytes of the snapshot's data (the replicated state). */
      size: number;
      /** SHA-256 of those bytes. */
      sha256: string;
      /** SHA-256 of the plugin's part of the data: what the `replicas` check compares. */
      state_sha256: string | null;
    }
  | { kind: "snapshot"; file: string; error: string };

/** One WAL record, located by segment file and byte offset. */
export interface RecordLine {
  file: string;
  offset: number;
  /** Bytes of the record on disk, header included. */
  size: number;
  record: WalRecord;
}

/** Where a segment stops reading. `torn`: nothing valid follows (a crash mid-write); else corruption. */
export type DamageLine = {
  kind: "damage";
  file: string;
  offset: number;
  reason: string;
  torn: boolean;
  bytes_after: number;
};

export interface DataDirectoryDump {
  snapshots: SnapshotFileLine[];
  segments: { file: string; bytes: number }[];
  records: RecordLine[];
  damage: DamageLine[];
  /** The latest hard state record (what recovery would use), if any. */
  hardState: HardState | undefined;
  /** Files in the directory that are not part of the node's storage, left alone. */
  others: string[];
}

export class NotADataDirectoryError extends Error {
  readonly code = "NOT_A_DATA_DIRECTORY";
  override readonly name = "NotADataDirectoryError";
}

/** Reads `directory` (a node's --data directory) without changing it. */
export async function dumpDataDirectory(directory: string): Promise<DataDirectoryDump> {
  const info = await stat(directory).catch((error: NodeJS.ErrnoException) => {
    throw new NotADataDirectoryError(`${directory}: ${error.code === "ENOENT" ? "no such directory" : error.message}`);
  });
  if (!info.isDirectory()) {
    throw new NotADataDirectoryError(`${directory}: not a directory`);
  }
  const names = await readdir(directory);
  if (!names.includes("wal") && !names.includes("snap")) {
    throw new NotADataDirectoryError(`${directory}: not a node data directory (it has neither wal/ nor snap/)`);
  }
  const dump: DataDirectoryDump = {
    snapshots: names.includes("snap") ? await readSnapshots(directory) : [],
    segments: [],
    records: [],
    damage: [],
    hardState: undefined,
    others: names.filter((name) => name !== "wal" && name !== "snap").sort(),
  };
  if (names.includes("wal")) {
    const { segments } = await listSegments(path.join(directory, "wal"));
    for (const segment of segments) {
      const file = path.join("wal", path.basename(segment.path));
      const bytes = await readFile(segment.path);
      dump.segments.push({ file, bytes: bytes.length });
      readSegment(bytes, file, dump);
    }
  }
  return dump;
}

function readSegment(bytes: Buffer, file: string, dump: DataDirectoryDump): void {
  let offset = 0;
  for (;;) {
    let scan: ReturnType<typeof readRecordAt>;
    try {
      scan = readRecordAt(bytes, offset, `${file} record at byte offset ${offset}`);
    } catch (error) {
      if (!(error instanceof CodecError)) {
        throw error;
      }
      // A checksum-valid record that does not decode: written so, not torn by a crash.
      scan = { status: "damaged", reason: `a record with a valid checksum does not decode (${error.message})` };
    }
    if (scan.status === "end") {
      return;
    }
    if (scan.status === "damaged") {
      dump.damage.push({ kind: "damage", file, offset, reason: scan.reason, torn: !hasValidRecordAfter(bytes, offset), bytes_after: bytes.length - offset });
      return;
    }
    dump.records.push({ file, offset, size: scan.nextOffset - offset, record: scan.record });
    if (scan.record.kind === "hardState") {
      dump.hardState = scan.record.hardState;
    }
    offset = scan.nextOffset;
  }
}

async function readSnapshots(directory: string): Promise<SnapshotFileLine[]> {
  const names = (await readdir(path.join(directory, "snap"))).sort();
  const lines: SnapshotFileLine[] = [];
  for (const name of names) {
    const file = path.join("snap", name);
    try {
      const snapshot = decodeSnapshotFile(await readFile(path.join(directory, file)), file);
      lines.push({
        kind: "snapshot",
        file,
        index: snapshot.metadata.index,
        term: snapshot.metadata.term,
        voters: [...snapshot.metadata.confState.voters],
        size: snapshot.data.byteLength,
        sha256: sha256(snapshot.data),
        state_sha256: pluginStateSha256(snapshot.data),
      });
    } catch (error) {
      lines.push({ kind: "snapshot", file, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return lines;
}

/**
 * The plugin's bytes inside the node's snapshot data ([u8 version 1][u32 header length][header]
 * [plugin state], replicated-state.ts), hashed; null when the data is not in that layout.
 */
function pluginStateSha256(data: Uint8Array): string | null {
  if (data.byteLength < 5 || data[0] !== 1) {
    return null;
  }
  const headerBytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength).readUInt32BE(1);
  return 5 + headerBytes <= data.byteLength ? sha256(data.subarray(5 + headerBytes)) : null;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
