import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as arbitrary from "../../../test/fuzz/message-arbitraries.js";
import type { Message } from "../../raft/messages.js";
import { CodecError, decodeEntry, decodeHardState, decodeMessage, encodeEntry, encodeHardState, encodeMessage } from "./message-codec.js";

function codecError(action: () => unknown): CodecError {
  try {
    action();
  } catch (error) {
    if (error instanceof CodecError) {
      return error;
    }
    throw error;
  }
  throw new Error("expected a CodecError");
}

/** Compares byte arrays by content whatever their class (Buffer vs Uint8Array). */
function normalise(value: unknown): unknown {
  if (value instanceof Uint8Array) {
    return Array.from(value);
  }
  if (Array.isArray(value)) {
    return value.map(normalise);
  }
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, normalise(field)]));
  }
  return value;
}

const heartbeat: Message = {
  type: "heartbeat",
  from: 1,
  to: 2,
  term: 7,
  logTerm: 0,
  index: 0,
  entries: [],
  commit: 12,
  reject: false,
  rejectHint: 0,
  hintTerm: 0,
  context: new Uint8Array([9, 9]),
};

describe("message codec", () => {
  test("messages round-trip", () => {
    fc.assert(
      fc.property(arbitrary.message(), (message) => {
        expect(normalise(decodeMessage(encodeMessage(message), "test"))).toEqual(normalise(message));
      }),
      { numRuns: 1000 },
    );
  });

  test("every strict prefix of an encoding is rejected as TRUNCATED", () => {
    fc.assert(
      fc.property(arbitrary.message(), fc.nat(), (message, cut) => {
        const bytes = encodeMessage(message);
        const prefix = bytes.subarray(0, cut % bytes.length);
        expect(codecError(() => decodeMessage(prefix, "frame 3")).code).toBe("TRUNCATED");
      }),
      { numRuns: 500 },
    );
  });

  test("random bytes never decode into anything but a CodecError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(codecError(() => decodeMessage(bytes, "garbage"))).toBeInstanceOf(CodecError);
      }),
      { numRuns: 2000 },
    );
  });

  test("errors name the input, the field and its byte offset", () => {
    const bytes = encodeMessage(heartbeat);
    const unknownType = Buffer.from(bytes);
    unknownType[1] = 200;
    expect(codecError(() => decodeMessage(unknownType, "frame 4 from node 1")).message).toBe(
      "UNKNOWN_TYPE: frame 4 from node 1: field type at byte 1: no type has code 200",
    );
    const badReject = Buffer.from(bytes);
    badReject[58] = 2; // version, type, from, to, six float64s: reject sits at byte 58
    expect(codecError(() => decodeMessage(badReject, "frame 5")).message).toBe("BAD_VALUE: frame 5: field reject at byte 58: expected 0 or 1, got 2");
    const longContext = Buffer.from(bytes);
    longContext.writeUInt32BE(1_000_000, 59);
    expect(codecError(() => decodeMessage(longContext, "frame 6")).message).toBe(
      "TRUNCATED: frame 6: field context at byte 59: length 1000000 runs past the end (7 bytes remain)",
    );
    const negativeTerm = Buffer.from(bytes);
    negativeTerm.writeDoubleBE(-1, 10);
    expect(codecError(() => decodeMessage(negativeTerm, "frame 7")).message).toBe(
      "BAD_VALUE: frame 7: field term at byte 10: expected a non-negative safe integer, got -1",
    );
    const wrongVersion = Buffer.from(bytes);
    wrongVersion[0] = 9;
    expect(codecError(() => decodeMessage(wrongVersion, "frame 8")).code).toBe("BAD_VERSION");
    expect(codecError(() => decodeMessage(Buffer.concat([bytes, Buffer.from([0])]), "frame 9")).message).toBe(
      `TRAILING_BYTES: frame 9: field <end> at byte ${bytes.length}: 1 bytes after the last field`,
    );
  });

  test("a huge entry count in a small message is rejected without allocating", () => {
    const bytes = Buffer.from(encodeMessage(heartbeat));
    const countAt = 59 + 4 + heartbeat.context.length;
    bytes.writeUInt32BE(0xffffffff, countAt);
    expect(codecError(() => decodeMessage(bytes, "frame 1")).field).toBe("entries");
  });

  test("app entries must be contiguous and follow the message's index", () => {
    const entry = { term: 1, index: 6, type: "normal" as const, data: new Uint8Array() };
    const app: Message = { ...heartbeat, type: "app", index: 5, entries: [entry, { ...entry, index: 8 }] };
    const error = codecError(() => decodeMessage(encodeMessage(app), "frame 2"));
    expect(error.field).toBe("entries[1].index");
    expect(error.message).toMatch(/expected 7 \(entries are contiguous after index 5\), got 8$/);
    const misplaced: Message = { ...app, entries: [{ ...entry, index: 9 }] };
    expect(codecError(() => decodeMessage(encodeMessage(misplaced), "frame 2")).field).toBe("entries[0].index");
  });

  test("a forwarded proposal's entries, all at index 0, are accepted", () => {
    const proposal = { term: 0, index: 0, type: "normal" as const, data: new Uint8Array([1]) };
    const prop: Message = { ...heartbeat, type: "prop", entries: [proposal, proposal, { ...proposal, type: "confChange" }] };
    expect(normalise(decodeMessage(encodeMessage(prop), "frame 1"))).toEqual(normalise(prop));
  });

  test("encoding a malformed message is a programmer error, not a CodecError", () => {
    expect(() => encodeMessage({ ...heartbeat, term: -1 })).toThrow(RangeError);
    expect(() => encodeMessage({ ...heartbeat, from: 1.5 })).toThrow(RangeError);
  });

  test("entries and hard states round-trip", () => {
    fc.assert(
      fc.property(arbitrary.entry(), arbitrary.hardState(), (entry, hardState) => {
        expect(normalise(decodeEntry(encodeEntry(entry), "e"))).toEqual(normalise(entry));
        expect(decodeHardState(encodeHardState(hardState), "h")).toEqual(hardState);
      }),
      { numRuns: 500 },
    );
  });
});
