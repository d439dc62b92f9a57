import { describe, expect, it } from "vitest";
import { decodeCommand, decodeMemberContext, encodeCommand, encodeMemberContext, encodeOpenSession, EnvelopeError } from "./command-envelope.js";

describe("command envelope", () => {
  it("round-trips a command with and without session and request id", () => {
    const full = { op: { f: "cas", key: "k", value: ["a", "b"] }, session: { clientId: "c1", seq: 9 }, requestId: 2 ** 40 + 7 };
    expect(decodeCommand(encodeCommand(full), 5)).toEqual(full);
    const bare = { op: { f: "add", value: 3 } };
    expect(decodeCommand(encodeCommand(bare), 5)).toEqual(bare);
  });

  it("round-trips a session open, with and without request id", () => {
    expect(decodeCommand(encodeOpenSession({ openSession: true, requestId: 12 }), 5)).toEqual({ openSession: true, requestId: 12 });
    expect(decodeCommand(encodeOpenSession({ openSession: true }), 5)).toEqual({ openSession: true });
    const badKind = new Uint8Array([1, ...new TextEncoder().encode('{"k":"close"}')]);
    expect(() => decodeCommand(badKind, 4)).toThrow('entry 4: envelope field k is "close", not "open"');
  });

  it("names the entry and field of a bad envelope", () => {
    expect(() => decodeCommand(new Uint8Array([9, 1]), 12)).toThrow(new EnvelopeError("entry 12: unknown envelope version 9"));
    const noOp = new Uint8Array([1, ...new TextEncoder().encode('{"x":1}')]);
    expect(() => decodeCommand(noOp, 3)).toThrow("entry 3: envelope field o (the operation) is not {f, ...}");
  });

  it("decodes member contexts leniently", () => {
    const context = { peerAddress: "127.0.0.1:1", clientAddress: "127.0.0.1:2", requestId: 5 };
    expect(decodeMemberContext(encodeMemberContext(context))).toEqual(context);
    expect(decodeMemberContext(new Uint8Array())).toEqual({});
    expect(decodeMemberContext(new Uint8Array([0xff]))).toEqual({});
  });
});
