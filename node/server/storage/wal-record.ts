// WAL record format: [u32 length][u32 crc32c][u8 kind][payload], big endian, where length counts
// kind + payload and the CRC-32C covers the same bytes. A segment file is a sequence of records.
import type { Entry, HardState } from "../../raft/messages.js";
import { ByteReader, ByteWriter, CodecError } from "../../../lib/binary-cursor.js";
import { crc32c } from "../../../lib/crc32c.js";
import { entryEncodedBytes, HARD_STATE_BYTES, readEntry, readHardState, writeEntry, writeHardState } from "../transport/message-codec.js";

export const RECORD_HEADER_BYTES = 8;

/** Record kind bytes: append only, never reuse. */
export const RecordKind = { entry: 1, hardState: 2, snapshotMarker: 3 } as const;

/**
 * The log was replaced up to `index` by a snapshot with that index and term. Entries at or below
 * `index` are gone; entries above it are kept up to `retainedThrough` (the writer applied Raft's
 * rule: keep the suffix only if the log held the snapshot's entry with the same term). Recording
 * the outcome rather than the rule lets replay work after older segments were deleted.
 */
export interface SnapshotMarker {
  index: number;
  term: number;
  retainedThrough: number;
}

export type WalRecord = { kind: "entry"; entry: Entry } | { kind: "hardState"; hardState: HardState } | { kind: "snapshotMarker"; marker: SnapshotMarker };

const MARKER_BYTES = 8 * 3;

export function recordBytes(record: WalRecord): number {
  switch (record.kind) {
    case "entry":
      return RECORD_HEADER_BYTES + 1 + entryEncodedBytes(record.entry);
    case "hardState":
      return RECORD_HEADER_BYTES + 1 + HARD_STATE_BYTES;
    case "snapshotMarker":
      return RECORD_HEADER_BYTES + 1 + MARKER_BYTES;
  }
}

/** Writes one record at the writer's offset, checksum included. */
export function writeRecord(w: ByteWriter, record: WalRecord): void {
  const start = w.offset;
  w.u32(0); // length and checksum are filled in once the body is written
  w.u32(0);
  w.u8(RecordKind[record.kind]);
  switch (record.kind) {
    case "entry":
      writeEntry(w, record.entry);
      break;
    case "hardState":
      writeHardState(w, record.hardState);
      break;
    case "snapshotMarker":
      w.uint(record.marker.index);
      w.uint(record.marker.term);
      w.uint(record.marker.retainedThrough);
      break;
  }
  const bodyStart = start + RECORD_HEADER_BYTES;
  w.bytes.writeUInt32BE(w.offset - bodyStart, start);
  w.bytes.writeUInt32BE(crc32c(w.bytes, bodyStart, w.offset), start + 4);
}

/** All records in one buffer (the unit of one WAL write). */
export function encodeRecords(records: readonly WalRecord[]): Buffer {
  let length = 0;
  for (const record of records) {
    length += recordBytes(record);
  }
  const w = ByteWriter.allocate(length);
  for (const record of records) {
    writeRecord(w, record);
  }
  return w.finish();
}

export type RecordScan =
  | { status: "ok"; record: WalRecord; nextOffset: number }
  /** Nothing more: offset is at the end of the buffer. */
  | { status: "end" }
  /** The bytes at offset are not a whole record with a matching checksum. */
  | { status: "damaged"; reason: string };

/**
 * Reads the record at `offset`. A checksum-valid record whose body does not decode is not damage
 * a crash could cause (the bytes are exactly what was written), so it throws CodecError instead.
 */
export function readRecordAt(bytes: Buffer, offset: number, label: string): RecordScan {
  const remaining = bytes.length - offset;
  if (remaining === 0) {
    return { status: "end" };
  }
  if (remaining < RECORD_HEADER_BYTES) {
    return { status: "damaged", reason: `partial record header (${remaining} bytes)` };
  }
  const length = bytes.readUInt32BE(offset);
  if (length === 0) {
    return { status: "damaged", reason: "record length 0" };
  }
  if (length > remaining - RECORD_HEADER_BYTES) {
    return { status: "damaged", reason: `record length ${length} runs past the end of the file (${remaining - RECORD_HEADER_BYTES} bytes follow the header)` };
  }
  const bodyStart = offset + RECORD_HEADER_BYTES;
  const bodyEnd = bodyStart + length;
  const expected = bytes.readUInt32BE(offset + 4);
  const actual = crc32c(bytes, bodyStart, bodyEnd);
  if (actual !== expected) {
    return { status: "damaged", reason: `bad checksum on a ${length}-byte record` };
  }
  return { status: "ok", record: decodeRecordBody(bytes.subarray(bodyStart, bodyEnd), label), nextOffset: bodyEnd };
}

function decodeRecordBody(body: Buffer, label: string): WalRecord {
  const r = new ByteReader(body, label);
  const kind = r.u8("kind");
  let record: WalRecord;
  switch (kind) {
    case RecordKind.entry:
      record = { kind: "entry", entry: readEntry(r, "entry") };
      break;
    case RecordKind.hardState:
      record = { kind: "hardState", hardState: readHardState(r, "hardState") };
      break;
    case RecordKind.snapshotMarker:
      record = {
        kind: "snapshotMarker",
        marker: { index: r.uint("marker.index"), term: r.uint("marker.term"), retainedThrough: r.uint("marker.retainedThrough") },
      };
      break;
    default:
      throw new CodecError("UNKNOWN_TYPE", label, "kind", 0, `no WAL record kind has code ${kind}`);
  }
  r.end();
  return record;
}

/**
 * Whether any checksum-valid record starts after `damagedOffset`. Decides torn tail (nothing valid
 * after the damage: a crash mid-write) versus corruption (valid data after it: disk or bug).
 */
export function hasValidRecordAfter(bytes: Buffer, damagedOffset: number): boolean {
  for (let offset = damagedOffset + 1; offset + RECORD_HEADER_BYTES < bytes.length; offset++) {
    const length = bytes.readUInt32BE(offset);
    if (length === 0 || length > bytes.length - offset - RECORD_HEADER_BYTES) {
      continue;
    }
    const bodyStart = offset + RECORD_HEADER_BYTES;
    const kind = bytes[bodyStart]!;
    if (kind < RecordKind.entry || kind > RecordKind.snapshotMarker) {
      continue;
    }
    if (crc32c(bytes, bodyStart, bodyStart + length) === bytes.readUInt32BE(offset + 4)) {
      return true;
    }
  }
  return false;
}
