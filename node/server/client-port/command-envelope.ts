// What the node writes into log entries. A normal entry's data is a command envelope: a version
// byte, then UTF-8 JSON { o: op, c?: clientId, s?: seq, r?: requestId }, or { k: "open", r? } to
// open a client session (its id is the entry's index). Empty data is a leader's
// no-op. `r` lets the proposing node find its waiting client when the entry is applied (the core's
// propose returns no index); it is unique per node boot, so an entry from an earlier life of this
// node never answers a new request. A confChange entry's context is the member's addresses (so
// every node learns where to dial it and where its client port is) plus the requestId.
import type { Json, Operation } from "../../../plugins/api.js";

const ENVELOPE_VERSION = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export interface CommandEnvelope {
  op: Operation;
  session?: { clientId: string; seq: number };
  requestId?: number;
}

/** Opens a client session; `requestId` finds the proposing node's waiting client. */
export interface OpenSessionEnvelope {
  openSession: true;
  requestId?: number;
}

export interface MemberContext {
  /** host:port peers dial to reach this member (may be absent for a bootstrap entry). */
  peerAddress?: string;
  clientAddress?: string;
  requestId?: number;
}

export class EnvelopeError extends Error {
  readonly code = "BAD_ENVELOPE";
  override readonly name = "EnvelopeError";
}

export function encodeCommand(envelope: CommandEnvelope): Uint8Array {
  const wire: Record<string, Json> = { o: envelope.op as unknown as Json };
  if (envelope.session !== undefined) {
    wire.c = envelope.session.clientId;
    wire.s = envelope.session.seq;
  }
  if (envelope.requestId !== undefined) {
    wire.r = envelope.requestId;
  }
  const json = JSON.stringify(wire);
  const bytes = Buffer.allocUnsafe(1 + Buffer.byteLength(json, "utf8"));
  bytes[0] = ENVELOPE_VERSION;
  bytes.write(json, 1, "utf8");
  return bytes;
}

export function encodeOpenSession(envelope: OpenSessionEnvelope): Uint8Array {
  const json = JSON.stringify(envelope.requestId === undefined ? { k: "open" } : { k: "open", r: envelope.requestId });
  const bytes = Buffer.allocUnsafe(1 + Buffer.byteLength(json, "utf8"));
  bytes[0] = ENVELOPE_VERSION;
  bytes.write(json, 1, "utf8");
  return bytes;
}

/** Decodes a command entry; throws EnvelopeError naming the entry index and the field at fault. */
export function decodeCommand(data: Uint8Array, entryIndex: number): CommandEnvelope | OpenSessionEnvelope {
  if (data[0] !== ENVELOPE_VERSION) {
    throw new EnvelopeError(`entry ${entryIndex}: unknown envelope version ${data[0] ?? "(empty)"}`);
  }
  let wire: unknown;
  try {
    wire = JSON.parse(decoder.decode(data.subarray(1)));
  } catch (error) {
    throw new EnvelopeError(`entry ${entryIndex}: envelope is not UTF-8 JSON: ${(error as Error).message}`);
  }
  if (typeof wire !== "object" || wire === null) {
    throw new EnvelopeError(`entry ${entryIndex}: envelope is not an object`);
  }
  const { o, c, s, r, k } = wire as Record<string, unknown>;
  if (r !== undefined && !Number.isSafeInteger(r)) {
    throw new EnvelopeError(`entry ${entryIndex}: envelope field r is not an integer`);
  }
  if (k !== undefined) {
    if (k !== "open") {
      throw new EnvelopeError(`entry ${entryIndex}: envelope field k is ${JSON.stringify(k)}, not "open"`);
    }
    return r === undefined ? { openSession: true } : { openSession: true, requestId: r as number };
  }
  if (typeof o !== "object" || o === null || typeof (o as { f?: unknown }).f !== "string") {
    throw new EnvelopeError(`entry ${entryIndex}: envelope field o (the operation) is not {f, ...}`);
  }
  const envelope: CommandEnvelope = { op: o as Operation };
  if (c !== undefined) {
    if (typeof c !== "string" || !Number.isSafeInteger(s)) {
      throw new EnvelopeError(`entry ${entryIndex}: envelope session fields c/s are not string/integer`);
    }
    envelope.session = { clientId: c, seq: s as number };
  }
  if (r !== undefined) {
    envelope.requestId = r as number;
  }
  return envelope;
}

export function encodeMemberContext(context: MemberContext): Uint8Array {
  return encoder.encode(JSON.stringify(context));
}

/** Lenient: a confChange with an empty or foreign context still applies; addresses are then unknown. */
export function decodeMemberContext(bytes: Uint8Array): MemberContext {
  if (bytes.length === 0) {
    return {};
  }
  try {
    const value = JSON.parse(decoder.decode(bytes)) as unknown;
    if (typeof value !== "object" || value === null) {
      return {};
    }
    const { peerAddress, clientAddress, requestId } = value as Record<string, unknown>;
    const context: MemberContext = {};
    if (typeof peerAddress === "string") {
      context.peerAddress = peerAddress;
    }
    if (typeof clientAddress === "string") {
      context.clientAddress = clientAddress;
    }
    if (Number.isSafeInteger(requestId)) {
      context.requestId = requestId as number;
    }
    return context;
  } catch {
    return {};
  }
}
