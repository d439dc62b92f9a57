import { describe, expect, test } from "vitest";
import type { ClientResponse, ErrorCode } from "../protocol/client-protocol.js";
import { DEFINITELY_NOT_APPLIED } from "../protocol/client-protocol.js";
import { classifyOutcome, type AttemptOutcome } from "./classify-outcome.js";
import { AbortedError, ClientError, type ClientErrorCode } from "./errors.js";

const refused = (code: string, leader?: number): ClientResponse => ({
  id: 1,
  ok: false,
  code: code as ErrorCode,
  message: "m",
  ...(leader === undefined ? {} : { leader: { nodeId: leader } }),
});
const thrown = (code: ClientErrorCode, sent: boolean): ClientError => new ClientError(code, "m", sent);

describe("classifyOutcome", () => {
  test.each<[string, ClientResponse | ClientError, AttemptOutcome]>([
    ["an ok result", { id: 1, ok: true, result: 7 }, { type: "ok", value: 7 }],
    [
      "an ok status",
      { id: 1, ok: true, status: { nodeId: 1, role: "leader", term: 2, leader: 1, commit: 3, applied: 3, lastIndex: 3, voters: [1], plugin: "kv" } },
      { type: "ok", value: { nodeId: 1, role: "leader", term: 2, leader: 1, commit: 3, applied: 3, lastIndex: 3, voters: [1], plugin: "kv" } },
    ],
    // Definite: the node proves it did nothing.
    ["NOT_LEADER with a hint", refused("NOT_LEADER", 3), { type: "fail", code: "NOT_LEADER", retry: true, leader: { nodeId: 3 } }],
    ["NOT_LEADER without a hint", refused("NOT_LEADER"), { type: "fail", code: "NOT_LEADER", retry: true }],
    ["UNAVAILABLE", refused("UNAVAILABLE"), { type: "fail", code: "UNAVAILABLE", retry: true }],
    ["BAD_REQUEST", refused("BAD_REQUEST"), { type: "fail", code: "BAD_REQUEST", retry: false }],
    ["SESSION_EXPIRED", refused("SESSION_EXPIRED"), { type: "fail", code: "SESSION_EXPIRED", retry: false }],
    ["UNAUTHENTICATED", refused("UNAUTHENTICATED"), { type: "fail", code: "UNAUTHENTICATED", retry: false }],
    // The plugin broke its contract: every replica answers the same, and the effect is unknown.
    ["PLUGIN_FAILED", refused("PLUGIN_FAILED"), { type: "info", code: "PLUGIN_FAILED", retry: false }],
    // Indefinite: proposed, fate unknown; a retry helps only where it cannot apply twice.
    ["TIMEOUT", refused("TIMEOUT"), { type: "info", code: "TIMEOUT", retry: true }],
    ["LEADERSHIP_LOST with a hint", refused("LEADERSHIP_LOST", 2), { type: "info", code: "LEADERSHIP_LOST", retry: true, leader: { nodeId: 2 } }],
    ["SHUTTING_DOWN", refused("SHUTTING_DOWN"), { type: "info", code: "SHUTTING_DOWN", retry: true }],
    ["a code this client does not know", refused("DISK_FULL"), { type: "info", code: "DISK_FULL" as ErrorCode, retry: false }],
    // Transport: `sent` decides.
    ["a refused connection", thrown("CONNECTION_FAILED", false), { type: "fail", code: "CONNECTION_FAILED", retry: true }],
    ["a connection lost after the write", thrown("CONNECTION_LOST", true), { type: "info", code: "CONNECTION_LOST", retry: true }],
    ["no response in time", thrown("REQUEST_TIMEOUT", true), { type: "info", code: "REQUEST_TIMEOUT", retry: true }],
    ["a malformed response", thrown("BAD_RESPONSE", true), { type: "info", code: "BAD_RESPONSE", retry: true }],
    ["an unknown node id", thrown("UNKNOWN_NODE", false), { type: "fail", code: "UNKNOWN_NODE", retry: true }],
    // The caller or the client stopped: nothing more to try.
    ["an abort before sending", new AbortedError("request", false), { type: "fail", code: "ABORTED", retry: false }],
    ["an abort after sending", new AbortedError("request", true), { type: "info", code: "ABORTED", retry: false }],
    ["a closed client", thrown("CLIENT_CLOSED", true), { type: "info", code: "CLIENT_CLOSED", retry: false }],
  ])("%s", (_name, result, expected) => {
    expect(classifyOutcome(result)).toEqual(expected);
  });

  test("a node's error is fail exactly when the protocol lists it as definitely not applied", () => {
    const codes: ErrorCode[] = [
      "NOT_LEADER",
      "BAD_REQUEST",
      "TIMEOUT",
      "LEADERSHIP_LOST",
      "UNAVAILABLE",
      "SESSION_EXPIRED",
      "SHUTTING_DOWN",
      "PLUGIN_FAILED",
      "UNAUTHENTICATED",
    ];
    for (const code of codes) {
      expect(classifyOutcome(refused(code)).type).toBe(DEFINITELY_NOT_APPLIED.has(code) ? "fail" : "info");
    }
  });
});
