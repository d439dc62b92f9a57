// The peer frame that carries one piece of a snapshot too large for a single frame. A snap message is
// sent as `count` chunk frames in order: chunk 0 carries the message itself with empty snapshot
// data (its "envelope"), every chunk carries a slice of the data. Layout, big endian:
//   u8 SNAPSHOT_CHUNK_TAG | u32 from | u32 to | float64 term | float64 snapshot index |
//   float64 snapshot term | u32 seq | u32 count | float64 total bytes |
//   u32 crc32c of the data from byte 0 through the end of this chunk |
//   u32-length envelope (chunk 0 only, empty otherwise) | u32-length data
// The tag is not a message codec version, so a peer's frame says which kind it is by its first byte.
import type { Message, NodeId } from "../../raft/messages.js";
import { ByteReader, ByteWriter } from "../../../lib/binary-cursor.js";
import { decodeMessage, encodeMessage } from "./message-codec.js";

export const SNAPSHOT_CHUNK_TAG = 0x81;

const U32_BYTES = 4;
const UINT_BYTES = 8;
const CHUNK_FIXED_BYTES = 1 + U32_BYTES * 2 + UINT_BYTES * 3 + U32_BYTES * 2 + UINT_BYTES + U32_BYTES + U32_BYTES * 2;

export interface SnapshotChunk {
  from: NodeId;
  to: NodeId;
  /** The snap message's term. */
  term: number;
  snapshotIndex: number;
  snapshotTerm: number;
  /** 0-based position of this chunk; chunks arrive in order. */
  seq: number;
  /** Chunks in the whole snapshot (at least 1). */
  count: number;
  /** Bytes of snapshot data over all chunks. */
  totalBytes: number;
  /** CRC-32C of the snapshot data from its first byte through this chunk's last one. */
  runningChecksum: number;
  /** Chunk 0: the snap message with empty snapshot data. */
  envelope: Message | undefined;
  data: Uint8Array;
}

export function isSnapshotChunkPayload(payload: Uint8Array): boolean {
  return payload[0] === SNAPSHOT_CHUNK_TAG;
}

/** A snap message without its data, as carried in chunk 0. */
export function snapshotEnvelope(message: Message): Message {
  if (message.type !== "snap" || message.snapshot === undefined) {
    throw new RangeError(`invariant: only a snap message with a snapshot is chunked, got ${message.type}`);
  }
  return { ...message, snapshot: { metadata: message.snapshot.metadata, data: new Uint8Array(0) } };
}

/** The chunk's payload with `headerBytes` left free in front (see frame-codec's sealFrame). */
export function encodeSnapshotChunk(chunk: SnapshotChunk, headerBytes = 0): Buffer {
  const envelope = chunk.envelope === undefined ? new Uint8Array(0) : encodeMessage(chunk.envelope);
  const length = CHUNK_FIXED_BYTES + envelope.length + chunk.data.length;
  const w = new ByteWriter(Buffer.allocUnsafe(headerBytes + length), headerBytes);
  w.u8(SNAPSHOT_CHUNK_TAG);
  w.u32(chunk.from);
  w.u32(chunk.to);
  w.uint(chunk.term);
  w.uint(chunk.snapshotIndex);
  w.uint(chunk.snapshotTerm);
  w.u32(chunk.seq);
  w.u32(chunk.count);
  w.uint(chunk.totalBytes);
  w.u32(chunk.runningChecksum);
  w.lengthPrefixed(envelope);
  w.lengthPrefixed(chunk.data);
  return w.finish();
}

/**
 * Decodes and validates one chunk on its own (the sequence is the reassembler's business): the
 * tag, every field's range, and that chunk 0's envelope is a snap message agreeing with the chunk's
 * sender, receiver, term and snapshot position. Throws CodecError naming the field.
 */
export function decodeSnapshotChunk(bytes: Uint8Array, label: string): SnapshotChunk {
  const r = new ByteReader(bytes, label);
  const tag = r.u8("chunk.tag");
  if (tag !== SNAPSHOT_CHUNK_TAG) {
    r.fail("UNKNOWN_TYPE", "chunk.tag", `expected ${SNAPSHOT_CHUNK_TAG}, got ${tag}`, 0);
  }
  const from = r.u32("chunk.from");
  const to = r.u32("chunk.to");
  const term = r.uint("chunk.term");
  const snapshotIndex = r.uint("chunk.snapshotIndex");
  const snapshotTerm = r.uint("chunk.snapshotTerm");
  const seq = r.u32("chunk.seq");
  const countAt = r.offset;
  const count = r.u32("chunk.count");
  if (count === 0 || seq >= count) {
    r.fail("BAD_VALUE", "chunk.count", `seq ${seq} of ${count} chunks`, countAt);
  }
  const totalBytes = r.uint("chunk.totalBytes");
  const runningChecksum = r.u32("chunk.runningChecksum");
  const envelopeAt = r.offset;
  const envelopeBytes = r.lengthPrefixed("chunk.envelope");
  if ((seq === 0) !== envelopeBytes.length > 0) {
    r.fail("BAD_VALUE", "chunk.envelope", seq === 0 ? "chunk 0 has no envelope" : `chunk ${seq} carries an envelope`, envelopeAt);
  }
  const envelope = seq === 0 ? decodeMessage(envelopeBytes, `${label} envelope`) : undefined;
  if (envelope !== undefined) {
    const mismatch = envelopeMismatch(envelope, { from, to, term, snapshotIndex, snapshotTerm });
    if (mismatch !== undefined) {
      r.fail("BAD_VALUE", "chunk.envelope", mismatch, envelopeAt);
    }
  }
  const dataAt = r.offset;
  const data = r.lengthPrefixed("chunk.data");
  if (data.length > totalBytes) {
    r.fail("BAD_VALUE", "chunk.data", `${data.length} bytes in a snapshot of ${totalBytes}`, dataAt);
  }
  r.end();
  return { from, to, term, snapshotIndex, snapshotTerm, seq, count, totalBytes, runningChecksum, envelope, data };
}

function envelopeMismatch(envelope: Message, chunk: Pick<SnapshotChunk, "from" | "to" | "term" | "snapshotIndex" | "snapshotTerm">): string | undefined {
  const snapshot = envelope.snapshot;
  if (envelope.type !== "snap" || snapshot === undefined) {
    return `envelope is a ${envelope.type} message${snapshot === undefined ? " without a snapshot" : ""}, not a snap`;
  }
  if (snapshot.data.length !== 0) {
    return `envelope carries ${snapshot.data.length} bytes of snapshot data`;
  }
  const pairs: [string, number, number][] = [
    ["from", envelope.from, chunk.from],
    ["to", envelope.to, chunk.to],
    ["term", envelope.term, chunk.term],
    ["snapshot index", snapshot.metadata.index, chunk.snapshotIndex],
    ["snapshot term", snapshot.metadata.term, chunk.snapshotTerm],
  ];
  const wrong = pairs.find(([, inEnvelope, inChunk]) => inEnvelope !== inChunk);
  return wrong === undefined ? undefined : `envelope ${wrong[0]} ${wrong[1]} disagrees with the chunk's ${wrong[2]}`;
}
