// Validates one client-port frame (UTF-8 JSON) into a ClientRequest. Never throws: a bad request
// becomes a BAD_REQUEST answer naming the field at fault, echoing the id when it could be read.
import { FAILPOINT_NAMES, isFailpointName, parseFailpointAction } from "../../protocol/failpoints.js";
import type { Operation } from "../../../plugins/api.js";
import type { ClientRequest } from "../../protocol/client-protocol.js";
import { isAuthHex } from "../../protocol/client-auth.js";
import { HostPortError, parseHostPort } from "../../../lib/host-port.js";

export type ParsedRequest = { ok: true; request: ClientRequest } | { ok: false; id: number; message: string };

const decoder = new TextDecoder("utf-8", { fatal: true });

export function parseClientRequest(payload: Uint8Array): ParsedRequest {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(payload));
  } catch (error) {
    return { ok: false, id: -1, message: `request is not UTF-8 JSON: ${(error as Error).message}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, id: -1, message: "request is not a JSON object" };
  }
  const raw = value as Record<string, unknown>;
  if (!Number.isSafeInteger(raw.id)) {
    return { ok: false, id: -1, message: "field id: expected an integer" };
  }
  const id = raw.id as number;
  const fail = (message: string): ParsedRequest => ({ ok: false, id, message });
  switch (raw.type) {
    case "command": {
      const op = parseOperation(raw.op);
      if (typeof op === "string") {
        return fail(op);
      }
      if (raw.session === undefined) {
        return { ok: true, request: { id, type: "command", op } };
      }
      const session = raw.session as Record<string, unknown> | null;
      if (typeof session !== "object" || session === null) {
        return fail("field session: expected {clientId, seq}");
      }
      if (typeof session.clientId !== "string" || session.clientId.length === 0 || session.clientId.length > 256) {
        return fail("field session.clientId: expected a non-empty string of at most 256 characters");
      }
      if (!Number.isSafeInteger(session.seq) || (session.seq as number) < 0) {
        return fail("field session.seq: expected a non-negative integer");
      }
      return {
        ok: true,
        request: { id, type: "command", op, session: { clientId: session.clientId, seq: session.seq as number } },
      };
    }
    case "read": {
      const op = parseOperation(raw.op);
      return typeof op === "string" ? fail(op) : { ok: true, request: { id, type: "read", op } };
    }
    case "status":
      return { ok: true, request: { id, type: "status" } };
    case "openSession":
      return { ok: true, request: { id, type: "openSession" } };
    case "addMember":
      if (!isNodeId(raw.nodeId)) {
        return fail("field nodeId: expected a positive integer");
      }
      for (const field of ["peerAddress", "clientAddress"] as const) {
        const problem = addressProblem(raw[field]);
        if (problem !== undefined) {
          return fail(`field ${field}: ${problem}`);
        }
      }
      return {
        ok: true,
        request: { id, type: "addMember", nodeId: raw.nodeId, peerAddress: raw.peerAddress as string, clientAddress: raw.clientAddress as string },
      };
    case "removeMember":
      return isNodeId(raw.nodeId) ? { ok: true, request: { id, type: "removeMember", nodeId: raw.nodeId } } : fail("field nodeId: expected a positive integer");
    case "transferLeader":
      return isNodeId(raw.to) ? { ok: true, request: { id, type: "transferLeader", to: raw.to } } : fail("field to: expected a positive integer");
    case "stateHash":
      return typeof raw.atLeast === "number" && Number.isSafeInteger(raw.atLeast) && raw.atLeast >= 0
        ? { ok: true, request: { id, type: "stateHash", atLeast: raw.atLeast } }
        : fail("field atLeast: expected a non-negative integer (a log index)");
    case "failpoint":
      if (typeof raw.name !== "string" || !isFailpointName(raw.name)) {
        return fail(`field name: expected one of ${FAILPOINT_NAMES.join(", ")}`);
      }
      if (typeof raw.action !== "string" || parseFailpointAction(raw.action) === undefined) {
        return fail("field action: expected sleep(<ms>ms), panic, error or off");
      }
      return { ok: true, request: { id, type: "failpoint", name: raw.name, action: raw.action } };
    case "authChallenge":
      return { ok: true, request: { id, type: "authChallenge" } };
    case "authenticate":
      if (!isAuthHex(raw.nonce)) {
        return fail("field nonce: expected 64 lowercase hex characters");
      }
      if (!isAuthHex(raw.proof)) {
        return fail("field proof: expected 64 lowercase hex characters");
      }
      return { ok: true, request: { id, type: "authenticate", nonce: raw.nonce, proof: raw.proof } };
    default:
      return fail(
        `field type: ${JSON.stringify(raw.type) ?? "missing"} is not one of command, read, openSession, status, addMember, removeMember, transferLeader, stateHash, authChallenge, authenticate, failpoint`,
      );
  }
}

/** The operation, or a message naming the bad field. The plugin checks f and the argument itself. */
function parseOperation(value: unknown): Operation | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return "field op: expected {f, key?, value}";
  }
  const op = value as Record<string, unknown>;
  if (typeof op.f !== "string" || op.f.length === 0) {
    return "field op.f: expected a non-empty string";
  }
  if (op.key !== undefined && op.key !== null && typeof op.key !== "string") {
    return "field op.key: expected a string or null";
  }
  if (!("value" in op)) {
    return "field op.value: missing (use null for none)";
  }
  const operation: Operation = { f: op.f, value: op.value as Operation["value"] };
  if (op.key !== undefined) {
    operation.key = op.key as string | null;
  }
  return operation;
}

/** Why `value` is not a HOST:PORT a member can be dialled at, or undefined when it is one. */
function addressProblem(value: unknown): string | undefined {
  if (typeof value !== "string") {
    return "expected a HOST:PORT string";
  }
  try {
    parseHostPort(value);
    return undefined;
  } catch (error) {
    if (error instanceof HostPortError) {
      return error.message;
    }
    throw error;
  }
}

function isNodeId(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= 0xffff_ffff;
}
