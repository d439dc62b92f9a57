import { describe, expect, it } from "vitest";
import { parseClientRequest } from "./client-request.js";

const parse = (value: unknown): ReturnType<typeof parseClientRequest> =>
  parseClientRequest(new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value)));

describe("parseClientRequest", () => {
  it("accepts every request type", () => {
    expect(parse({ id: 1, type: "command", op: { f: "put", key: "k", value: "v" }, session: { clientId: "c", seq: 3 } })).toEqual({
      ok: true,
      request: { id: 1, type: "command", op: { f: "put", key: "k", value: "v" }, session: { clientId: "c", seq: 3 } },
    });
    expect(parse({ id: 2, type: "read", op: { f: "get", key: "k", value: null } })).toEqual({
      ok: true,
      request: { id: 2, type: "read", op: { f: "get", key: "k", value: null } },
    });
    expect(parse({ id: 3, type: "status" })).toEqual({ ok: true, request: { id: 3, type: "status" } });
    expect(parse({ id: 4, type: "addMember", nodeId: 4, peerAddress: "127.0.0.1:1", clientAddress: "[::1]:2" }).ok).toBe(true);
    expect(parse({ id: 5, type: "removeMember", nodeId: 2 }).ok).toBe(true);
    expect(parse({ id: 6, type: "transferLeader", to: 2 }).ok).toBe(true);
  });

  it.each([
    ["{not json", -1, "request is not UTF-8 JSON"],
    [[1, 2], -1, "request is not a JSON object"],
    [{ type: "status" }, -1, "field id: expected an integer"],
    [{ id: 7, type: "launch" }, 7, 'field type: "launch" is not one of'],
    [{ id: 7, type: "command" }, 7, "field op: expected {f, key?, value}"],
    [{ id: 7, type: "command", op: { f: "", value: 1 } }, 7, "field op.f: expected a non-empty string"],
    [{ id: 7, type: "command", op: { f: "put", key: 3, value: 1 } }, 7, "field op.key: expected a string or null"],
    [{ id: 7, type: "command", op: { f: "put", key: "k" } }, 7, "field op.value: missing"],
    [{ id: 7, type: "command", op: { f: "put", value: 1 }, session: { clientId: "c" } }, 7, "field session.seq"],
    [{ id: 7, type: "addMember", nodeId: 4, peerAddress: "nowhere", clientAddress: "a:1" }, 7, 'field peerAddress: "nowhere" is not HOST:PORT'],
    // Port 99999 used to pass (the old rule counted digits only) and failed later, at the dial.
    [{ id: 7, type: "addMember", nodeId: 4, peerAddress: "a:1", clientAddress: "a:99999" }, 7, 'field clientAddress: port 99999 in "a:99999" is above 65535'],
    [{ id: 7, type: "addMember", nodeId: 4, peerAddress: "a:0", clientAddress: "a:1" }, 7, 'field peerAddress: port 0 in "a:0"'],
    [{ id: 7, type: "addMember", nodeId: 4, peerAddress: 7000, clientAddress: "a:1" }, 7, "field peerAddress: expected a HOST:PORT string"],
    [{ id: 7, type: "removeMember", nodeId: 0 }, 7, "field nodeId"],
  ])("refuses %j naming the field", (value, id, message) => {
    const parsed = parse(value);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.id).toBe(id);
      expect(parsed.message.startsWith(message)).toBe(true);
    }
  });
});
