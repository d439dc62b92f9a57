import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { crc32c } from "./crc32c.js";

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Bit-at-a-time reference: the definition, used to check the slice-by-8 tables. */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
    }
  }
  return ~crc >>> 0;
}

describe("crc32c", () => {
  test("standard check value and RFC 3720 (iSCSI) vectors", () => {
    expect(crc32c(ascii("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    const ascending = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(crc32c(ascending)).toBe(0x46dd794e);
    const descending = Uint8Array.from({ length: 32 }, (_, i) => 31 - i);
    expect(crc32c(descending)).toBe(0x113fdb5c);
  });

  test("agrees with the bitwise definition at every length and alignment", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(20), (bytes, skip) => {
        const start = Math.min(skip, bytes.length);
        expect(crc32c(bytes, start)).toBe(crc32cBitwise(bytes.subarray(start)));
      }),
      { numRuns: 500 },
    );
  });

  test("continues across split buffers", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), (bytes, cut) => {
        const at = bytes.length === 0 ? 0 : cut % bytes.length;
        const first = crc32c(bytes, 0, at);
        expect(crc32c(bytes, at, bytes.length, first)).toBe(crc32c(bytes));
      }),
    );
  });

  test("rejects a range outside the buffer", () => {
    expect(() => crc32c(new Uint8Array(4), 2, 6)).toThrow(/\[2, 6\) outside a 4-byte buffer/);
  });
});
