import { describe, expect, it } from "vitest";
import { kvPlugin } from "../../plugins/kv/index.js";
import { ReplicatedState, SnapshotDataError } from "./replicated-state.js";

const put = (key: string, value: string) => ({ op: { f: "put", key, value } });

describe("ReplicatedState (kv plugin)", () => {
  it("applies commands, deduplicates a session's retry and refuses a stale seq", () => {
    const state = new ReplicatedState(kvPlugin, 100);
    const append = { op: { f: "append", key: "k", value: "a" }, session: { clientId: "c", seq: 1 } };
    expect(state.applyCommand(append)).toEqual({ ok: true, result: null });
    expect(state.applyCommand(append)).toEqual({ ok: true, result: null });
    expect(state.read({ f: "get", key: "k", value: null })).toEqual({ ok: true, result: "a" });
    state.applyCommand({ ...append, session: { clientId: "c", seq: 2 } });
    const stale = state.applyCommand(append);
    expect(stale.ok).toBe(false);
    expect(!stale.ok && stale.message).toMatch(/^stale seq: session c seq 1 is below its last applied seq 2/);
    expect(state.read({ f: "get", key: "k", value: null })).toEqual({ ok: true, result: "aa" });
    expect(state.commandsApplied).toBe(2);
  });

  it("turns a plugin error into a deterministic BAD_REQUEST outcome, cached for the session", () => {
    const state = new ReplicatedState(kvPlugin, 100);
    const bad = { op: { f: "put", key: "k", value: 7 }, session: { clientId: "c", seq: 1 } };
    const outcome = state.applyCommand(bad);
    expect(outcome).toMatchObject({ ok: false, code: "BAD_REQUEST" });
    expect(state.applyCommand(bad)).toEqual(outcome);
  });

  it("restores plugin state, sessions and members from its snapshot", () => {
    const state = new ReplicatedState(kvPlugin, 100);
    state.applyCommand(put("a", "1"));
    state.applyCommand({ ...put("b", "2"), session: { clientId: "c", seq: 5 } });
    state.addMember(4, { peerAddress: "127.0.0.1:1", clientAddress: "127.0.0.1:2" });
    const copy = new ReplicatedState(kvPlugin, 100);
    copy.restore(state.snapshotData(), "test");
    expect(copy.read({ f: "get", key: "b", value: null })).toEqual({ ok: true, result: "2" });
    expect(copy.sessions.check("c", 5)).toEqual({ kind: "duplicate", outcome: { ok: true, result: null } });
    expect(copy.members.get(4)).toEqual({ peerAddress: "127.0.0.1:1", clientAddress: "127.0.0.1:2" });
    expect(copy.snapshotData()).toEqual(state.snapshotData());
  });

  it("refuses snapshot bytes that are not its own, naming the label", () => {
    const state = new ReplicatedState(kvPlugin, 100);
    expect(() => state.restore(new Uint8Array([9, 0, 0, 0, 0]), "snapshot at index 7")).toThrow(
      new SnapshotDataError("snapshot at index 7: not a raftlab snapshot (version byte 9)"),
    );
    expect(() => state.restore(new Uint8Array([1, 0, 0, 1, 0]), "s")).toThrow("s: header length 256 runs past the end (5 bytes)");
  });

  it("snapshot-without-sessions (unsafe): a retry applied before the snapshot applies again after its install", () => {
    for (const snapshotWithoutSessions of [false, true]) {
      const state = new ReplicatedState(kvPlugin, 100, { snapshotWithoutSessions });
      const append = { op: { f: "append", key: "k", value: "a" }, session: { clientId: "c", seq: 1 } };
      state.applyCommand(append);
      const installed = new ReplicatedState(kvPlugin, 100, { snapshotWithoutSessions });
      installed.restore(state.snapshotData(), "test");
      installed.applyCommand(append); // the client's retry of seq 1, committed after the snapshot
      const value = installed.read({ f: "get", key: "k", value: null });
      expect(value).toEqual({ ok: true, result: snapshotWithoutSessions ? "aa" : "a" });
    }
  });
});
