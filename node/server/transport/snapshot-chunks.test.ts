import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Message } from "../../raft/messages.js";
import { CodecError } from "../../../lib/binary-cursor.js";
import { decodeSnapshotChunk, encodeSnapshotChunk, type SnapshotChunk } from "./snapshot-chunk-codec.js";
import { SnapshotChunker, SnapshotReassembler, type ReassemblyResult } from "./snapshot-chunks.js";

function snapMessage(data: Uint8Array, extra: { term?: number; index?: number } = {}): Message {
  return {
    type: "snap",
    from: 1,
    to: 2,
    term: extra.term ?? 4,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 17,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    context: new Uint8Array(),
    snapshot: { metadata: { index: extra.index ?? 120, term: 3, confState: { voters: [1, 2, 3] } }, data },
  };
}

function pattern(length: number, seed = 1): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) {
    bytes[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  }
  return bytes;
}

/** Every chunk through the wire codec, as the receiver sees them. */
function chunksOf(message: Message, chunkBytes: number): SnapshotChunk[] {
  const chunker = new SnapshotChunker(message, chunkBytes);
  const chunks: SnapshotChunk[] = [];
  for (let chunk = chunker.next(); chunk !== undefined; chunk = chunker.next()) {
    chunks.push(decodeSnapshotChunk(encodeSnapshotChunk(chunk), `chunk ${chunk.seq}`));
  }
  return chunks;
}

function feed(reassembler: SnapshotReassembler, chunks: readonly SnapshotChunk[]): ReassemblyResult[] {
  return chunks.map((chunk) => reassembler.accept(chunk));
}

function refusal(result: ReassemblyResult | undefined): string {
  if (result?.status !== "refused") {
    throw new Error(`expected a refusal, got ${JSON.stringify(result?.status)}`);
  }
  return result.reason;
}

function completed(result: ReassemblyResult | undefined): Message {
  if (result?.status !== "complete") {
    throw new Error(`expected a complete snapshot, got ${JSON.stringify(result)}`);
  }
  return result.message;
}

describe("snapshot chunks", () => {
  test("split then join gives back the message, for any data and chunk size", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.integer({ min: 1, max: 1500 }), (data, chunkBytes) => {
        const message = snapMessage(data);
        const chunks = chunksOf(message, chunkBytes);
        expect(chunks).toHaveLength(Math.max(1, Math.ceil(data.length / chunkBytes)));
        const results = feed(new SnapshotReassembler(), chunks);
        expect(results.slice(0, -1).every((r) => r.status === "partial")).toBe(true);
        const joined = completed(results.at(-1));
        expect(Buffer.from(joined.snapshot!.data).equals(Buffer.from(data))).toBe(true);
        const withoutBytes = (m: Message): unknown => ({ ...m, context: [...m.context], snapshot: { ...m.snapshot!, data: [] } });
        expect(withoutBytes(joined)).toEqual(withoutBytes(message));
      }),
      { numRuns: 300 },
    );
  });

  test("a 3 MiB snapshot in 1 MiB chunks: chunk 0 alone carries the envelope", () => {
    const data = pattern(3 * 1024 * 1024 + 5);
    const chunks = chunksOf(snapMessage(data), 1024 * 1024);
    expect(chunks.map((c) => [c.seq, c.count, c.data.length, c.envelope !== undefined])).toEqual([
      [0, 4, 1024 * 1024, true],
      [1, 4, 1024 * 1024, false],
      [2, 4, 1024 * 1024, false],
      [3, 4, 5, false],
    ]);
    expect(Buffer.from(completed(feed(new SnapshotReassembler(), chunks).at(-1)).snapshot!.data).equals(data)).toBe(true);
  });

  test("a chunk out of order is refused and the partial snapshot is dropped", () => {
    const chunks = chunksOf(snapMessage(pattern(1000)), 100);
    const reassembler = new SnapshotReassembler();
    feed(reassembler, chunks.slice(0, 3));
    expect(refusal(reassembler.accept(chunks[4]!))).toBe("chunk 4 arrived, chunk 3 was expected");
    expect(reassembler.hasPartial).toBe(false);
    expect(refusal(reassembler.accept(chunks[3]!))).toMatch(/^chunk 3 of snapshot 120 arrived with no snapshot being assembled/);
  });

  test("a duplicate chunk is refused", () => {
    const chunks = chunksOf(snapMessage(pattern(1000)), 100);
    const reassembler = new SnapshotReassembler();
    feed(reassembler, chunks.slice(0, 3));
    expect(refusal(reassembler.accept(chunks[2]!))).toBe("chunk 2 arrived, chunk 3 was expected");
  });

  test("a chunk without a first chunk is refused", () => {
    const chunks = chunksOf(snapMessage(pattern(1000)), 100);
    expect(refusal(new SnapshotReassembler().accept(chunks[1]!))).toMatch(/no snapshot being assembled/);
  });

  test("a chunk of another snapshot is refused, naming the field that differs", () => {
    const first = chunksOf(snapMessage(pattern(1000), { index: 120 }), 100);
    const other = chunksOf(snapMessage(pattern(1000), { index: 130 }), 100);
    const reassembler = new SnapshotReassembler();
    feed(reassembler, first.slice(0, 2));
    expect(refusal(reassembler.accept(other[2]!))).toBe("chunk 2 has snapshotIndex 130, the snapshot being assembled has 120");
    const newerTerm = chunksOf(snapMessage(pattern(1000), { term: 5 }), 100);
    feed(reassembler, first.slice(0, 2));
    expect(refusal(reassembler.accept(newerTerm[2]!))).toBe("chunk 2 has term 5, the snapshot being assembled has 4");
  });

  test("a new snapshot's first chunk discards the partial one and is assembled whole", () => {
    const older = chunksOf(snapMessage(pattern(1000, 1), { index: 120 }), 100);
    const newer = chunksOf(snapMessage(pattern(700, 2), { index: 150 }), 100);
    const reassembler = new SnapshotReassembler();
    feed(reassembler, older.slice(0, 5));
    expect(reassembler.partialBytes).toBe(500);
    expect(reassembler.accept(newer[0]!)).toEqual({ status: "partial", started: true });
    expect(reassembler.partialBytes).toBe(100);
    const joined = completed(feed(reassembler, newer.slice(1)).at(-1));
    expect(joined.snapshot!.metadata.index).toBe(150);
    expect(Buffer.from(joined.snapshot!.data).equals(pattern(700, 2))).toBe(true);
    expect(refusal(reassembler.accept(older[5]!))).toMatch(/no snapshot being assembled/);
  });

  test("a snapshot larger than snapshotBytesMax is refused at its first chunk", () => {
    const chunks = chunksOf(snapMessage(pattern(1000)), 100);
    const reassembler = new SnapshotReassembler({ snapshotBytesMax: 999 });
    expect(refusal(reassembler.accept(chunks[0]!))).toBe("snapshot of 1000 bytes exceeds snapshotBytesMax 999");
    expect(reassembler.hasPartial).toBe(false);
    expect(completed(feed(new SnapshotReassembler({ snapshotBytesMax: 1000 }), chunks).at(-1)).snapshot!.data).toHaveLength(1000);
  });

  test("chunks whose data overruns or falls short of the announced total are refused", () => {
    const chunks = chunksOf(snapMessage(pattern(1000)), 400);
    const overrun = { ...chunks[1]!, data: pattern(700) };
    const reassembler = new SnapshotReassembler();
    reassembler.accept(chunks[0]!);
    expect(refusal(reassembler.accept(overrun))).toBe("chunk 1 of 3 brings the data to 1100 of 1000 bytes");
    reassembler.accept(chunks[0]!);
    reassembler.accept(chunks[1]!);
    expect(refusal(reassembler.accept({ ...chunks[2]!, data: chunks[2]!.data.subarray(1) }))).toBe("chunk 2 of 3 brings the data to 999 of 1000 bytes");
    reassembler.accept(chunks[0]!);
    expect(refusal(reassembler.accept({ ...chunks[1]!, data: new Uint8Array() }))).toBe("chunk 1 of 3 brings the data to 400 of 1000 bytes");
  });

  test("data that does not match the running checksum is refused", () => {
    const chunks = chunksOf(snapMessage(pattern(1000)), 400);
    const corrupted = Buffer.from(chunks[1]!.data);
    corrupted[17] = corrupted[17]! ^ 0x01;
    const reassembler = new SnapshotReassembler();
    reassembler.accept(chunks[0]!);
    expect(refusal(reassembler.accept({ ...chunks[1]!, data: corrupted }))).toMatch(/^data checksum through chunk 1 is \d+, the chunk says \d+$/);
    expect(reassembler.hasPartial).toBe(false);
  });

  test("swapped chunks are caught by the checksum even when their sequence numbers are rewritten", () => {
    const chunks = chunksOf(snapMessage(pattern(1000)), 250);
    const reassembler = new SnapshotReassembler();
    reassembler.accept(chunks[0]!);
    expect(refusal(reassembler.accept({ ...chunks[2]!, seq: 1 }))).toMatch(/^data checksum through chunk 1/);
  });

  test("an empty snapshot is one chunk", () => {
    const chunks = chunksOf(snapMessage(new Uint8Array()), 100);
    expect(chunks).toHaveLength(1);
    expect(completed(new SnapshotReassembler().accept(chunks[0]!)).snapshot!.data).toHaveLength(0);
  });
});

describe("snapshot chunk codec", () => {
  const [first, second] = chunksOf(snapMessage(pattern(300)), 200) as [SnapshotChunk, SnapshotChunk];

  function codecError(bytes: Uint8Array): string {
    try {
      decodeSnapshotChunk(bytes, "frame 9");
    } catch (error) {
      if (error instanceof CodecError) {
        return error.message;
      }
      throw error;
    }
    throw new Error("expected a CodecError");
  }

  test("every truncation of a chunk is a CodecError", () => {
    const bytes = encodeSnapshotChunk(first);
    for (let length = 0; length < bytes.length; length++) {
      expect(codecError(bytes.subarray(0, length))).toMatch(/^(TRUNCATED|UNKNOWN_TYPE): frame 9/);
    }
  });

  test("fields are validated one by one", () => {
    expect(codecError(encodeSnapshotChunk({ ...second, seq: 2 }))).toBe("BAD_VALUE: frame 9: field chunk.count at byte 37: seq 2 of 2 chunks");
    expect(codecError(encodeSnapshotChunk({ ...second, envelope: first.envelope }))).toMatch(
      /^BAD_VALUE: frame 9: field chunk.envelope at byte \d+: chunk 1 carries an envelope$/,
    );
    expect(codecError(encodeSnapshotChunk({ ...first, envelope: undefined }))).toMatch(/chunk 0 has no envelope$/);
    expect(codecError(encodeSnapshotChunk({ ...first, snapshotIndex: 121 }))).toMatch(/envelope snapshot index 120 disagrees with the chunk's 121$/);
    expect(codecError(encodeSnapshotChunk({ ...first, envelope: { ...first.envelope!, type: "app" } }))).toMatch(/envelope is a app message, not a snap$/);
    expect(codecError(encodeSnapshotChunk({ ...first, envelope: snapMessage(pattern(3)) }))).toMatch(/envelope carries 3 bytes of snapshot data$/);
    expect(codecError(encodeSnapshotChunk({ ...second, totalBytes: 50 }))).toMatch(/field chunk.data at byte \d+: 100 bytes in a snapshot of 50$/);
    expect(codecError(Buffer.concat([encodeSnapshotChunk(second), Buffer.from([0])]))).toMatch(/^TRAILING_BYTES/);
    const badTag = encodeSnapshotChunk(second);
    badTag[0] = 1;
    expect(codecError(badTag)).toBe("UNKNOWN_TYPE: frame 9: field chunk.tag at byte 0: expected 129, got 1");
  });
});
