// Length-prefixed, checksummed frames: [u32 payload length][u32 crc32c of payload][payload], big
// endian. Used by the peer transport (payload = one encoded Message) and the client port (payload =
// one UTF-8 JSON object, see node/protocol/client-protocol.ts).
import { crc32c } from "../../../lib/crc32c.js";

export const FRAME_HEADER_BYTES = 8;
export const DEFAULT_FRAME_BYTES_MAX = 16 * 1024 * 1024;

export type FrameErrorCode =
  /** The payload's CRC-32C does not match the header. */
  | "BAD_CHECKSUM"
  /** The header announces a payload longer than the decoder's frameBytesMax. */
  | "FRAME_TOO_LARGE"
  /** The stream ended inside a frame. */
  | "TRUNCATED_FRAME"
  /** The decoder was used again after it threw: a stream is unusable after its first bad frame. */
  | "DECODER_FAILED";

export class FrameError extends Error {
  override readonly name = "FrameError";
  constructor(
    readonly code: FrameErrorCode,
    /** 0-based number of the frame at fault in this stream. */
    readonly frameNumber: number,
    /** Byte offset of that frame's header from the start of the stream. */
    readonly streamOffset: number,
    detail: string,
  ) {
    super(`${code}: frame ${frameNumber} at stream byte offset ${streamOffset}: ${detail}`);
  }
}

/** One frame around `payload`, in a single new buffer. */
export function encodeFrame(payload: Uint8Array): Buffer {
  if (payload.length > 0xffffffff) {
    throw new RangeError(`encodeFrame: payload of ${payload.length} bytes does not fit a u32 length`);
  }
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt32BE(crc32c(payload), 4);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Turns `buffer` into a frame in place: its first FRAME_HEADER_BYTES were reserved by the encoder
 * (see encodeMessage's headerBytes) and the payload follows. Saves encodeFrame's copy.
 */
export function sealFrame(buffer: Buffer): Buffer {
  if (buffer.length < FRAME_HEADER_BYTES) {
    throw new RangeError(`sealFrame: ${buffer.length} bytes cannot hold a frame header`);
  }
  buffer.writeUInt32BE(buffer.length - FRAME_HEADER_BYTES, 0);
  buffer.writeUInt32BE(crc32c(buffer, FRAME_HEADER_BYTES), 4);
  return buffer;
}

export interface FrameDecoderOptions {
  /** Largest accepted payload; a longer announced length is an error before any of it is buffered. */
  frameBytesMax?: number;
}

/**
 * Splits a byte stream into frame payloads. Chunks are kept as a list and each frame is copied out
 * at most once (a frame inside one chunk is a zero-copy view), so cost is linear in stream length.
 */
export class FrameDecoder {
  /** May be changed between frames, e.g. a small limit until a handshake, then the normal one. */
  frameBytesMax: number;
  /** Buffered chunks from index `headChunk` on; that chunk's bytes before `headOffset` are consumed. */
  #chunks: Buffer[] = [];
  #headChunk = 0;
  #headOffset = 0;
  /** Invariant: equals the sum of the live chunks' lengths minus headOffset. */
  #bufferedBytes = 0;
  /** Frames returned so far: the number of the next frame. */
  #frameNumber = 0;
  /** Stream offset of the next frame's header. */
  #streamOffset = 0;
  #failure: FrameError | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.frameBytesMax = options.frameBytesMax ?? DEFAULT_FRAME_BYTES_MAX;
    if (!(Number.isSafeInteger(this.frameBytesMax) && this.frameBytesMax >= 0)) {
      throw new RangeError(`FrameDecoder: frameBytesMax must be a non-negative integer, got ${this.frameBytesMax}`);
    }
  }

  /** Bytes received but not yet returned as a frame (a partial frame when the stream is idle). */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** Frames decoded so far. */
  get framesDecoded(): number {
    return this.#frameNumber;
  }

  /** Appends a chunk and returns every frame it completes; throws FrameError on a bad frame. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.append(chunk);
    const frames: Uint8Array[] = [];
    for (let frame = this.next(); frame !== undefined; frame = this.next()) {
      frames.push(frame);
    }
    return frames;
  }

  /** Appends a chunk without decoding; pair with next() to decode one frame at a time. */
  append(chunk: Uint8Array): void {
    this.#throwIfFailed();
    if (chunk.length === 0) {
      return;
    }
    this.#chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    this.#bufferedBytes += chunk.length;
  }

  /** The next complete frame's payload, or undefined if more bytes are needed. */
  next(): Uint8Array | undefined {
    this.#throwIfFailed();
    if (this.#bufferedBytes < FRAME_HEADER_BYTES) {
      return undefined;
    }
    const header = this.#peek(FRAME_HEADER_BYTES);
    const payloadLength = header.readUInt32BE(0);
    const expectedChecksum = header.readUInt32BE(4);
    if (payloadLength > this.frameBytesMax) {
      this.#fail("FRAME_TOO_LARGE", `announced length ${payloadLength} exceeds frameBytesMax ${this.frameBytesMax}`);
    }
    if (this.#bufferedBytes < FRAME_HEADER_BYTES + payloadLength) {
      return undefined;
    }
    this.#consume(FRAME_HEADER_BYTES);
    const payload = this.#take(payloadLength);
    const actualChecksum = crc32c(payload);
    if (actualChecksum !== expectedChecksum) {
      this.#fail("BAD_CHECKSUM", `payload of ${payloadLength} bytes has crc32c 0x${hex(actualChecksum)}, header says 0x${hex(expectedChecksum)}`);
    }
    this.#frameNumber += 1;
    this.#streamOffset += FRAME_HEADER_BYTES + payloadLength;
    return payload;
  }

  /** Call at end of stream: throws TRUNCATED_FRAME if the stream stopped inside a frame. */
  finish(): void {
    this.#throwIfFailed();
    if (this.#bufferedBytes > 0) {
      this.#fail("TRUNCATED_FRAME", `stream ended with ${this.#bufferedBytes} bytes of an incomplete frame`);
    }
  }

  #fail(code: FrameErrorCode, detail: string): never {
    this.#failure = new FrameError(code, this.#frameNumber, this.#streamOffset, detail);
    this.#chunks = [];
    this.#headChunk = 0;
    this.#bufferedBytes = 0;
    throw this.#failure;
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) {
      throw new FrameError("DECODER_FAILED", this.#failure.frameNumber, this.#failure.streamOffset, `decoder already failed with ${this.#failure.code}`);
    }
  }

  /** The next `length` buffered bytes without consuming them (copied only if split across chunks). */
  #peek(length: number): Buffer {
    const first = this.#chunks[this.#headChunk];
    if (first !== undefined && first.length - this.#headOffset >= length) {
      return first.subarray(this.#headOffset, this.#headOffset + length);
    }
    const copy = Buffer.allocUnsafe(length);
    let copied = 0;
    let offset = this.#headOffset;
    for (let index = this.#headChunk; index < this.#chunks.length; index++) {
      const chunk = this.#chunks[index]!;
      const n = Math.min(chunk.length - offset, length - copied);
      chunk.copy(copy, copied, offset, offset + n);
      copied += n;
      offset = 0;
      if (copied === length) {
        break;
      }
    }
    return copy;
  }

  #take(length: number): Buffer {
    const bytes = this.#peek(length);
    this.#consume(length);
    return bytes;
  }

  #consume(length: number): void {
    if (length > this.#bufferedBytes) {
      throw new Error(`invariant: consume(${length}) with only ${this.#bufferedBytes} bytes buffered`);
    }
    this.#bufferedBytes -= length;
    let remaining = length;
    while (remaining > 0) {
      const first = this.#chunks[this.#headChunk]!;
      const available = first.length - this.#headOffset;
      if (available > remaining) {
        this.#headOffset += remaining;
        return;
      }
      remaining -= available;
      this.#headChunk += 1;
      this.#headOffset = 0;
    }
    // Drop consumed chunks in bulk rather than shift() per chunk, which is linear each time.
    if (this.#headChunk === this.#chunks.length) {
      this.#chunks = [];
      this.#headChunk = 0;
    } else if (this.#headChunk >= 64 && this.#headChunk * 2 >= this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#headChunk);
      this.#headChunk = 0;
    }
  }
}

function hex(value: number): string {
  return value.toString(16).padStart(8, "0");
}
