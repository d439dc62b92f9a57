import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { encodeFrame, FrameDecoder, FrameError, FRAME_HEADER_BYTES, sealFrame } from "./frame-codec.js";

/** Splits `bytes` at the given cut points (taken modulo its length). */
function split(bytes: Uint8Array, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => (bytes.length === 0 ? 0 : cut % bytes.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(Buffer.from(bytes.subarray(start, point)));
    start = point;
  }
  return chunks;
}

function concat(parts: Uint8Array[]): Buffer {
  return Buffer.concat(parts.map((part) => Buffer.from(part)));
}

function flipBit(bytes: Uint8Array, bit: number): void {
  bytes[bit >> 3] = bytes[bit >> 3]! ^ (1 << (bit & 7));
}

function thrown(action: () => unknown): FrameError {
  try {
    action();
  } catch (error) {
    if (error instanceof FrameError) {
      return error;
    }
    throw error;
  }
  throw new Error("expected a FrameError");
}

describe("frame codec", () => {
  test("frames survive any chunking of the stream", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (payloads, cuts) => {
        const stream = concat(payloads.map(encodeFrame));
        const decoder = new FrameDecoder();
        const decoded = split(stream, cuts).flatMap((chunk) => decoder.push(chunk));
        expect(decoded.map((frame) => Buffer.from(frame))).toEqual(payloads.map((p) => Buffer.from(p)));
        expect(decoder.bufferedBytes).toBe(0);
        expect(decoder.framesDecoded).toBe(payloads.length);
        decoder.finish();
      }),
      { numRuns: 300 },
    );
  });

  test("a frame fed one byte at a time decodes once complete", () => {
    const payload = Buffer.alloc(100_000, 7);
    const frame = encodeFrame(payload);
    const decoder = new FrameDecoder();
    const decoded: Uint8Array[] = [];
    for (let i = 0; i < frame.length - 1; i++) {
      decoded.push(...decoder.push(frame.subarray(i, i + 1)));
    }
    expect(decoded).toHaveLength(0);
    expect(decoder.bufferedBytes).toBe(frame.length - 1);
    decoded.push(...decoder.push(frame.subarray(frame.length - 1)));
    expect(decoded).toHaveLength(1);
    expect(Buffer.compare(Buffer.from(decoded[0]!), payload)).toBe(0);
  });

  test("sealFrame frames a payload in place, byte for byte like encodeFrame", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (payload) => {
        const reserved = Buffer.concat([Buffer.alloc(FRAME_HEADER_BYTES), payload]);
        expect(sealFrame(reserved)).toEqual(encodeFrame(payload));
      }),
    );
  });

  test("an empty payload is a valid frame", () => {
    const decoder = new FrameDecoder();
    expect(decoder.push(encodeFrame(new Uint8Array(0)))).toEqual([new Uint8Array(0)].map((b) => Buffer.from(b)));
  });

  test("a bad checksum names the frame number and its stream offset", () => {
    const first = encodeFrame(Buffer.from("hello"));
    const second = encodeFrame(Buffer.from("world!"));
    flipBit(second, (FRAME_HEADER_BYTES + 2) * 8);
    const decoder = new FrameDecoder();
    const error = thrown(() => decoder.push(concat([first, second])));
    expect(error.code).toBe("BAD_CHECKSUM");
    expect(error.frameNumber).toBe(1);
    expect(error.streamOffset).toBe(first.length);
    expect(error.message).toMatch(/^BAD_CHECKSUM: frame 1 at stream byte offset 13: payload of 6 bytes has crc32c 0x[0-9a-f]{8}, header says 0x[0-9a-f]{8}$/);
  });

  test("an oversized length is rejected from the header alone, before buffering the payload", () => {
    const decoder = new FrameDecoder({ frameBytesMax: 1024 });
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    header.writeUInt32BE(1025, 0);
    const error = thrown(() => decoder.push(header));
    expect(error.code).toBe("FRAME_TOO_LARGE");
    expect(error.message).toBe("FRAME_TOO_LARGE: frame 0 at stream byte offset 0: announced length 1025 exceeds frameBytesMax 1024");
  });

  test("frameBytesMax can change between frames", () => {
    const decoder = new FrameDecoder({ frameBytesMax: 4 });
    decoder.append(concat([encodeFrame(Buffer.from("tiny")), encodeFrame(Buffer.from("much larger"))]));
    expect(Buffer.from(decoder.next()!).toString()).toBe("tiny");
    decoder.frameBytesMax = 64;
    expect(Buffer.from(decoder.next()!).toString()).toBe("much larger");
    expect(decoder.next()).toBeUndefined();
  });

  test("a stream that ends inside a frame is reported by finish()", () => {
    const frame = encodeFrame(Buffer.from("complete"));
    const decoder = new FrameDecoder();
    decoder.push(concat([frame, frame.subarray(0, 5)]));
    const error = thrown(() => decoder.finish());
    expect(error.code).toBe("TRUNCATED_FRAME");
    expect(error.message).toBe(`TRUNCATED_FRAME: frame 1 at stream byte offset ${frame.length}: stream ended with 5 bytes of an incomplete frame`);
  });

  test("a failed decoder refuses further input", () => {
    const frame = encodeFrame(Buffer.from("x"));
    frame[0] = 0xff;
    const decoder = new FrameDecoder();
    expect(thrown(() => decoder.push(frame)).code).toBe("FRAME_TOO_LARGE");
    expect(thrown(() => decoder.push(encodeFrame(Buffer.from("y")))).code).toBe("DECODER_FAILED");
  });

  test("any single bit flip in a frame is detected, never returned as data", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), (payload, bit) => {
        const frame = encodeFrame(payload);
        const flipAt = bit % (frame.length * 8);
        flipBit(frame, flipAt);
        const decoder = new FrameDecoder({ frameBytesMax: 1 << 20 });
        let frames: Uint8Array[] = [];
        try {
          frames = decoder.push(frame);
          decoder.finish();
        } catch (error) {
          expect(error).toBeInstanceOf(FrameError);
          return;
        }
        throw new Error(`flip at bit ${flipAt} went unnoticed: ${frames.length} frames`);
      }),
      { numRuns: 500 },
    );
  });
});
