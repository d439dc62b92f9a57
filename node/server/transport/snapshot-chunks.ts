// Splitting a snap message into chunks (snapshot-chunk-codec.ts) and joining them back. Chunking is
// a transport concern, as in etcd: the core sends and receives whole snap messages. The splitter is
// lazy (one chunk is built at a time, so the sender holds no copy of the data) and the reassembler
// verifies each chunk against the first and the data against its running checksum, handing out
// the message only once the whole snapshot is in and intact.
import type { Message } from "../../raft/messages.js";
import { crc32c } from "../../../lib/crc32c.js";
import { snapshotEnvelope, type SnapshotChunk } from "./snapshot-chunk-codec.js";

export const DEFAULT_SNAPSHOT_CHUNK_BYTES = 1024 * 1024;
/** Largest snapshot a receiver assembles; a first chunk announcing more is refused before any data. */
export const DEFAULT_SNAPSHOT_BYTES_MAX = 2 * 1024 * 1024 * 1024;

/** Yields the chunks of one snap message, in order, each built on demand. */
export class SnapshotChunker {
  readonly message: Message;
  readonly count: number;
  readonly totalBytes: number;
  readonly #chunkBytes: number;
  readonly #data: Uint8Array;
  #seq = 0;
  #checksum = 0;

  constructor(message: Message, chunkBytes = DEFAULT_SNAPSHOT_CHUNK_BYTES) {
    if (!(Number.isSafeInteger(chunkBytes) && chunkBytes >= 1)) {
      throw new RangeError(`SnapshotChunker: chunkBytes must be a positive integer, got ${chunkBytes}`);
    }
    snapshotEnvelope(message); // asserts a snap message
    this.message = message;
    this.#data = message.snapshot!.data;
    this.#chunkBytes = chunkBytes;
    this.totalBytes = this.#data.length;
    this.count = Math.max(1, Math.ceil(this.totalBytes / chunkBytes));
  }

  /** Chunks handed out so far. */
  get sent(): number {
    return this.#seq;
  }

  get done(): boolean {
    return this.#seq === this.count;
  }

  /** The next chunk, or undefined after the last. */
  next(): SnapshotChunk | undefined {
    if (this.done) {
      return undefined;
    }
    const seq = this.#seq;
    const start = seq * this.#chunkBytes;
    const end = Math.min(start + this.#chunkBytes, this.totalBytes);
    const data = this.#data.subarray(start, end);
    this.#checksum = crc32c(data, 0, data.length, this.#checksum);
    this.#seq += 1;
    const { metadata } = this.message.snapshot!;
    return {
      from: this.message.from,
      to: this.message.to,
      term: this.message.term,
      snapshotIndex: metadata.index,
      snapshotTerm: metadata.term,
      seq,
      count: this.count,
      totalBytes: this.totalBytes,
      runningChecksum: this.#checksum,
      envelope: seq === 0 ? snapshotEnvelope(this.message) : undefined,
      data,
    };
  }
}

export type ReassemblyResult =
  | { status: "partial"; started: boolean }
  | { status: "complete"; message: Message; chunks: number }
  /** The chunk does not continue the snapshot being assembled; any partial snapshot is discarded. */
  | { status: "refused"; reason: string };

interface Assembly {
  first: SnapshotChunk;
  envelope: Message;
  pieces: Uint8Array[];
  receivedBytes: number;
  nextSeq: number;
  checksum: number;
}

/** Joins the chunks of one sender's snapshots; holds at most one partial snapshot. */
export class SnapshotReassembler {
  readonly #snapshotBytesMax: number;
  #partial: Assembly | undefined;

  constructor(options: { snapshotBytesMax?: number | undefined } = {}) {
    this.#snapshotBytesMax = options.snapshotBytesMax ?? DEFAULT_SNAPSHOT_BYTES_MAX;
  }

  /** Bytes held for the snapshot being assembled (0 when none). */
  get partialBytes(): number {
    return this.#partial?.receivedBytes ?? 0;
  }

  get hasPartial(): boolean {
    return this.#partial !== undefined;
  }

  /** Drops the snapshot being assembled, if any (a lost connection, a newer snapshot elsewhere). */
  discard(): void {
    this.#partial = undefined;
  }

  /**
   * Takes the next chunk. Chunk 0 starts a new snapshot and discards any partial one (the sender
   * gave up on it); every other chunk must be the next of the snapshot being assembled.
   */
  accept(chunk: SnapshotChunk): ReassemblyResult {
    const result = this.#accept(chunk);
    if (result.status !== "partial") {
      this.#partial = undefined;
    }
    return result;
  }

  #accept(chunk: SnapshotChunk): ReassemblyResult {
    if (chunk.seq === 0) {
      this.#partial = undefined;
      if (chunk.totalBytes > this.#snapshotBytesMax) {
        return { status: "refused", reason: `snapshot of ${chunk.totalBytes} bytes exceeds snapshotBytesMax ${this.#snapshotBytesMax}` };
      }
      if (chunk.envelope === undefined) {
        return { status: "refused", reason: "chunk 0 has no envelope" };
      }
      this.#partial = { first: chunk, envelope: chunk.envelope, pieces: [], receivedBytes: 0, nextSeq: 0, checksum: 0 };
    }
    const partial = this.#partial;
    if (partial === undefined) {
      return { status: "refused", reason: `chunk ${chunk.seq} of snapshot ${chunk.snapshotIndex} arrived with no snapshot being assembled` };
    }
    const inconsistency =
      inconsistencyWithFirst(partial.first, chunk) ??
      (chunk.seq === partial.nextSeq ? undefined : `chunk ${chunk.seq} arrived, chunk ${partial.nextSeq} was expected`);
    if (inconsistency !== undefined) {
      return { status: "refused", reason: inconsistency };
    }
    const isLast = chunk.seq === chunk.count - 1;
    const receivedBytes = partial.receivedBytes + chunk.data.length;
    // Every chunk but the last carries data, so a small snapshot cannot announce endless chunks.
    if ((chunk.data.length === 0 && !(isLast && chunk.count === 1)) || receivedBytes > chunk.totalBytes || (isLast && receivedBytes !== chunk.totalBytes)) {
      return { status: "refused", reason: `chunk ${chunk.seq} of ${chunk.count} brings the data to ${receivedBytes} of ${chunk.totalBytes} bytes` };
    }
    const checksum = crc32c(chunk.data, 0, chunk.data.length, partial.checksum);
    if (checksum !== chunk.runningChecksum) {
      return { status: "refused", reason: `data checksum through chunk ${chunk.seq} is ${checksum}, the chunk says ${chunk.runningChecksum}` };
    }
    partial.pieces.push(chunk.data);
    partial.receivedBytes = receivedBytes;
    partial.checksum = checksum;
    partial.nextSeq += 1;
    if (!isLast) {
      return { status: "partial", started: chunk.seq === 0 };
    }
    const data = partial.pieces.length === 1 ? partial.pieces[0]! : Buffer.concat(partial.pieces, receivedBytes);
    const message: Message = { ...partial.envelope, snapshot: { metadata: partial.envelope.snapshot!.metadata, data } };
    return { status: "complete", message, chunks: chunk.count };
  }
}

function inconsistencyWithFirst(first: SnapshotChunk, chunk: SnapshotChunk): string | undefined {
  const fields = ["from", "to", "term", "snapshotIndex", "snapshotTerm", "count", "totalBytes"] as const;
  const wrong = fields.find((field) => first[field] !== chunk[field]);
  return wrong === undefined ? undefined : `chunk ${chunk.seq} has ${wrong} ${chunk[wrong]}, the snapshot being assembled has ${first[wrong]}`;
}
