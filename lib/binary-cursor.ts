// Big-endian writer and validating reader for the binary codecs (messages, WAL records, snapshots).
// The reader never trusts a length: every read is bounds-checked and a failure names the field.

export type CodecErrorCode =
  /** A field runs past the end of the input. */
  | "TRUNCATED"
  /** An enum byte (message type, entry type, ...) has no meaning. */
  | "UNKNOWN_TYPE"
  /** A field's value is out of range (negative index, non-integer term, bad boolean, ...). */
  | "BAD_VALUE"
  /** Bytes remain after the last field. */
  | "TRAILING_BYTES"
  /** The encoding version byte is not one this code reads. */
  | "BAD_VERSION";

export class CodecError extends Error {
  override readonly name = "CodecError";
  constructor(
    readonly code: CodecErrorCode,
    /** What was being decoded, e.g. "frame 12 from node 3" or "wal/0000000000000001.wal offset 4096". */
    readonly label: string,
    /** Dotted path of the field at fault, e.g. "entries[3].data". */
    readonly field: string,
    /** Byte offset of that field within the decoded buffer. */
    readonly offset: number,
    detail: string,
  ) {
    super(`${code}: ${label}: field ${field} at byte ${offset}: ${detail}`);
  }
}

export class ByteWriter {
  readonly bytes: Buffer;
  #offset: number;

  /** Writes into `bytes` from `offset`; the caller sized it exactly (checked by finish()). */
  constructor(bytes: Buffer, offset = 0) {
    this.bytes = bytes;
    this.#offset = offset;
  }

  static allocate(length: number): ByteWriter {
    return new ByteWriter(Buffer.allocUnsafe(length));
  }

  get offset(): number {
    return this.#offset;
  }

  u8(value: number): void {
    this.#offset = this.bytes.writeUInt8(value, this.#offset);
  }

  u32(value: number): void {
    this.#offset = this.bytes.writeUInt32BE(value, this.#offset);
  }

  /** A non-negative safe integer (term, index, length of a snapshot) as an exact float64. */
  uint(value: number): void {
    assertUint(value);
    this.#offset = this.bytes.writeDoubleBE(value, this.#offset);
  }

  /** u32 length, then the bytes. */
  lengthPrefixed(data: Uint8Array): void {
    this.u32(data.length);
    this.raw(data);
  }

  raw(data: Uint8Array): void {
    this.bytes.set(data, this.#offset);
    this.#offset += data.length;
  }

  /** Asserts the buffer was filled exactly: a size computation and the writes disagree otherwise. */
  finish(): Buffer {
    if (this.#offset !== this.bytes.length) {
      throw new Error(`invariant: wrote ${this.#offset} bytes into a ${this.bytes.length}-byte buffer`);
    }
    return this.bytes;
  }
}

export function assertUint(value: number): void {
  if (!(Number.isSafeInteger(value) && value >= 0)) {
    throw new RangeError(`invariant: expected a non-negative safe integer, got ${value}`);
  }
}

export class ByteReader {
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  #offset = 0;

  constructor(
    bytes: Uint8Array,
    readonly label: string,
  ) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get offset(): number {
    return this.#offset;
  }

  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  fail(code: CodecErrorCode, field: string, detail: string, offset = this.#offset): never {
    throw new CodecError(code, this.label, field, offset, detail);
  }

  #need(length: number, field: string): void {
    if (length > this.remaining) {
      this.fail("TRUNCATED", field, `needs ${length} bytes, ${this.remaining} remain`);
    }
  }

  u8(field: string): number {
    this.#need(1, field);
    const value = this.#view.getUint8(this.#offset);
    this.#offset += 1;
    return value;
  }

  u32(field: string): number {
    this.#need(4, field);
    const value = this.#view.getUint32(this.#offset);
    this.#offset += 4;
    return value;
  }

  uint(field: string): number {
    this.#need(8, field);
    const value = this.#view.getFloat64(this.#offset);
    if (!(Number.isSafeInteger(value) && value >= 0)) {
      this.fail("BAD_VALUE", field, `expected a non-negative safe integer, got ${value}`);
    }
    this.#offset += 8;
    return value;
  }

  boolean(field: string): boolean {
    const at = this.#offset;
    const value = this.u8(field);
    if (value > 1) {
      this.fail("BAD_VALUE", field, `expected 0 or 1, got ${value}`, at);
    }
    return value === 1;
  }

  /** u32 length then that many bytes, copied so the result does not pin the (network) buffer. */
  lengthPrefixed(field: string): Uint8Array {
    const at = this.#offset;
    const length = this.u32(`${field}.length`);
    if (length > this.remaining) {
      this.fail("TRUNCATED", field, `length ${length} runs past the end (${this.remaining} bytes remain)`, at);
    }
    return this.raw(length);
  }

  raw(length: number): Uint8Array {
    const data = this.#bytes.slice(this.#offset, this.#offset + length);
    this.#offset += length;
    return data;
  }

  /** A u32 element count, checked against the bytes left so garbage cannot demand a huge array. */
  count(field: string, elementBytesMin: number): number {
    const at = this.#offset;
    const count = this.u32(`${field}.length`);
    if (count * elementBytesMin > this.remaining) {
      this.fail("TRUNCATED", field, `count ${count} needs at least ${count * elementBytesMin} bytes, ${this.remaining} remain`, at);
    }
    return count;
  }

  end(): void {
    if (this.remaining !== 0) {
      this.fail("TRAILING_BYTES", "<end>", `${this.remaining} bytes after the last field`);
    }
  }
}
