// Compact binary encoding of the Raft wire types (node/raft/messages.ts), big endian:
// numbers that may grow past 2^32 (terms, indexes, commit) are exact float64s checked to be safe
// integers; node ids are u32; byte strings are u32-length-prefixed. Decoding validates every field
// and throws CodecError naming the field, so garbage from the network never reaches the core.
import type { Entry, EntryType, HardState, Message, MessageType, NodeId, Snapshot, SnapshotMetadata } from "../../raft/messages.js";
import { ByteReader, ByteWriter } from "../../../lib/binary-cursor.js";

export { CodecError, type CodecErrorCode } from "../../../lib/binary-cursor.js";

/** Bumped when the message layout changes; a peer on another version is rejected per message. */
export const MESSAGE_CODEC_VERSION = 1;

// Wire codes: never renumber, only add. A Record, so that the compiler refuses a message type
// without a code.
const MESSAGE_TYPE_CODES_BY_TYPE: Readonly<Record<MessageType, number>> = {
  hup: 0,
  beat: 1,
  prop: 2,
  readIndex: 3,
  readIndexResp: 4,
  transferLeader: 5,
  checkQuorum: 6,
  app: 7,
  appResp: 8,
  vote: 9,
  voteResp: 10,
  preVote: 11,
  preVoteResp: 12,
  heartbeat: 13,
  heartbeatResp: 14,
  snap: 15,
  timeoutNow: 16,
};
/** Every message type, in wire-code order (index = code). */
export const MESSAGE_TYPES: readonly MessageType[] = (Object.entries(MESSAGE_TYPE_CODES_BY_TYPE) as [MessageType, number][])
  .sort((a, b) => a[1] - b[1])
  .map(([type]) => type);
const ENTRY_TYPES: readonly EntryType[] = ["normal", "confChange"];

const MESSAGE_TYPE_CODES = new Map(MESSAGE_TYPES.map((type, code) => [type, code]));
const ENTRY_TYPE_CODES = new Map(ENTRY_TYPES.map((type, code) => [type, code]));

const UINT_BYTES = 8;
const U32_BYTES = 4;
/** term + index + type + data length. */
const ENTRY_BYTES_MIN = UINT_BYTES * 2 + 1 + U32_BYTES;
/** version, type, from, to, six uints, reject, context length, entry count, snapshot flag. */
const MESSAGE_FIXED_BYTES = 1 + 1 + U32_BYTES * 2 + UINT_BYTES * 6 + 1 + U32_BYTES + U32_BYTES + 1;
export const HARD_STATE_BYTES = UINT_BYTES + U32_BYTES + UINT_BYTES;

function code<T>(codes: ReadonlyMap<T, number>, value: T, what: string): number {
  const found = codes.get(value);
  if (found === undefined) {
    throw new RangeError(`invariant: unknown ${what} ${String(value)}`);
  }
  return found;
}

function enumValue<T>(reader: ReadonlyArray<T>, byte: number, r: ByteReader, field: string, at: number): T {
  const value = reader[byte];
  if (value === undefined) {
    r.fail("UNKNOWN_TYPE", field, `no ${field} has code ${byte}`, at);
  }
  return value;
}

function assertNodeId(id: NodeId): void {
  if (!(Number.isInteger(id) && id >= 0 && id <= 0xffffffff)) {
    throw new RangeError(`invariant: node id must be a u32, got ${id}`);
  }
}

// ---- Entry ----

export function entryEncodedBytes(entry: Entry): number {
  return ENTRY_BYTES_MIN + entry.data.length;
}

export function writeEntry(w: ByteWriter, entry: Entry): void {
  w.uint(entry.term);
  w.uint(entry.index);
  w.u8(code(ENTRY_TYPE_CODES, entry.type, "entry type"));
  w.lengthPrefixed(entry.data);
}

export function readEntry(r: ByteReader, field: string): Entry {
  const term = r.uint(`${field}.term`);
  const index = r.uint(`${field}.index`);
  const at = r.offset;
  const type = enumValue(ENTRY_TYPES, r.u8(`${field}.type`), r, `${field}.type`, at);
  const data = r.lengthPrefixed(`${field}.data`);
  return { term, index, type, data };
}

export function encodeEntry(entry: Entry): Buffer {
  const w = ByteWriter.allocate(entryEncodedBytes(entry));
  writeEntry(w, entry);
  return w.finish();
}

export function decodeEntry(bytes: Uint8Array, label: string): Entry {
  const r = new ByteReader(bytes, label);
  const entry = readEntry(r, "entry");
  r.end();
  return entry;
}

// ---- HardState ----

export function writeHardState(w: ByteWriter, hardState: HardState): void {
  assertNodeId(hardState.vote);
  w.uint(hardState.term);
  w.u32(hardState.vote);
  w.uint(hardState.commit);
}

export function readHardState(r: ByteReader, field: string): HardState {
  const term = r.uint(`${field}.term`);
  const vote = r.u32(`${field}.vote`);
  const commit = r.uint(`${field}.commit`);
  return { term, vote, commit };
}

export function encodeHardState(hardState: HardState): Buffer {
  const w = ByteWriter.allocate(HARD_STATE_BYTES);
  writeHardState(w, hardState);
  return w.finish();
}

export function decodeHardState(bytes: Uint8Array, label: string): HardState {
  const r = new ByteReader(bytes, label);
  const hardState = readHardState(r, "hardState");
  r.end();
  return hardState;
}

// A confChange entry's data is opaque here: the core encodes it (node/raft/conf-change-codec.ts)
// and the server decodes it with the same code (conf-change-data.ts).

// ---- Snapshot metadata (also used by the snapshot store) ----

export function snapshotMetadataEncodedBytes(metadata: SnapshotMetadata): number {
  return UINT_BYTES * 2 + U32_BYTES + U32_BYTES * metadata.confState.voters.length;
}

export function writeSnapshotMetadata(w: ByteWriter, metadata: SnapshotMetadata): void {
  w.uint(metadata.index);
  w.uint(metadata.term);
  w.u32(metadata.confState.voters.length);
  for (const voter of metadata.confState.voters) {
    assertNodeId(voter);
    w.u32(voter);
  }
}

export function readSnapshotMetadata(r: ByteReader, field: string): SnapshotMetadata {
  const index = r.uint(`${field}.index`);
  const term = r.uint(`${field}.term`);
  const voterCount = r.count(`${field}.confState.voters`, U32_BYTES);
  const voters: NodeId[] = [];
  for (let i = 0; i < voterCount; i++) {
    voters.push(r.u32(`${field}.confState.voters[${i}]`));
  }
  return { index, term, confState: { voters } };
}

// ---- Message ----

/**
 * The message's encoding. With `headerBytes`, that many bytes are left free at the start (e.g. for
 * frame-codec's sealFrame), so framing needs no second buffer.
 */
export function encodeMessage(message: Message, headerBytes = 0): Buffer {
  assertNodeId(message.from);
  assertNodeId(message.to);
  let length = MESSAGE_FIXED_BYTES + message.context.length;
  for (const entry of message.entries) {
    length += entryEncodedBytes(entry);
  }
  const snapshot = message.snapshot;
  if (snapshot !== undefined) {
    length += snapshotMetadataEncodedBytes(snapshot.metadata) + U32_BYTES + snapshot.data.length;
  }
  const w = new ByteWriter(Buffer.allocUnsafe(headerBytes + length), headerBytes);
  w.u8(MESSAGE_CODEC_VERSION);
  w.u8(code(MESSAGE_TYPE_CODES, message.type, "message type"));
  w.u32(message.from);
  w.u32(message.to);
  w.uint(message.term);
  w.uint(message.logTerm);
  w.uint(message.index);
  w.uint(message.commit);
  w.uint(message.rejectHint);
  w.uint(message.hintTerm);
  w.u8(message.reject ? 1 : 0);
  w.lengthPrefixed(message.context);
  w.u32(message.entries.length);
  for (const entry of message.entries) {
    writeEntry(w, entry);
  }
  w.u8(snapshot === undefined ? 0 : 1);
  if (snapshot !== undefined) {
    writeSnapshotMetadata(w, snapshot.metadata);
    w.lengthPrefixed(snapshot.data);
  }
  return w.finish();
}

/**
 * Decodes and validates one message. `label` names the input in errors, e.g. "frame 12 from node 3".
 * Besides the layout, checks the contract of messages.ts: an "app" message's entries are
 * contiguous and start right after its `index` (other types' entries, e.g. a forwarded proposal's,
 * have no index yet).
 */
export function decodeMessage(bytes: Uint8Array, label: string): Message {
  const r = new ByteReader(bytes, label);
  const version = r.u8("version");
  if (version !== MESSAGE_CODEC_VERSION) {
    r.fail("BAD_VERSION", "version", `this node reads version ${MESSAGE_CODEC_VERSION}, got ${version}`, 0);
  }
  const type = enumValue(MESSAGE_TYPES, r.u8("type"), r, "type", 1);
  const from = r.u32("from");
  const to = r.u32("to");
  const term = r.uint("term");
  const logTerm = r.uint("logTerm");
  const index = r.uint("index");
  const commit = r.uint("commit");
  const rejectHint = r.uint("rejectHint");
  const hintTerm = r.uint("hintTerm");
  const reject = r.boolean("reject");
  const context = r.lengthPrefixed("context");
  const entryCount = r.count("entries", ENTRY_BYTES_MIN);
  const entries: Entry[] = [];
  for (let i = 0; i < entryCount; i++) {
    const at = r.offset;
    const entry = readEntry(r, `entries[${i}]`);
    // Only an app message's entries have their log positions yet: a forwarded proposal's are all 0.
    const expectedIndex = index + 1 + i;
    if (type === "app" && entry.index !== expectedIndex) {
      r.fail(
        "BAD_VALUE",
        `entries[${i}].index`,
        `expected ${expectedIndex} (entries are contiguous after index ${index}), got ${entry.index}`,
        at + UINT_BYTES,
      );
    }
    entries.push(entry);
  }
  const hasSnapshot = r.boolean("snapshot.present");
  let snapshot: Snapshot | undefined;
  if (hasSnapshot) {
    const metadata = readSnapshotMetadata(r, "snapshot.metadata");
    const data = r.lengthPrefixed("snapshot.data");
    snapshot = { metadata, data };
  }
  r.end();
  const message: Message = { type, from, to, term, logTerm, index, entries, commit, reject, rejectHint, hintTerm, context };
  if (snapshot !== undefined) {
    message.snapshot = snapshot;
  }
  return message;
}
