import { describe, expect, it } from "vitest";
import { kvPlugin } from "../../plugins/kv/index.js";
import { ReplicatedState, SnapshotDataError } from "./replicated-state.js";

const put = (key: string, value: string) => ({ op: { f: "put", key, value } });

describe("ReplicatedState (kv plugin)", () => {
  it("applies commands, deduplicates a session's retry and refuses a stale seq", () => {
    const state = new ReplicatedState(kvPlugin, 100);
    state.openSession(7);
    const append = { op: { f: "append", key: "k", value: "a" }, session: { clientId: "7", seq: 1 } };
    expect(state.applyCommand(append)).toEqual({ ok: true, result: null });
    expect(state.applyCommand(append)).toEqual({ ok: true, result: null });
    expect(state.read({ f: "get", key: "k", value: null })).toEqual({ ok: true, result: "a" });
    state.applyCommand({ ...append, session: { clientId: "7", seq: 2 } });
    const stale = state.applyCommand(append);
    expect(stale.ok).toBe(false);
    expect(!stale.ok && stale.message).toMatch(/^stale seq: session 7 seq 1 is below its last applied seq 2/);
    expect(state.read({ f: "get", key: "k", value: null })).toEqual({ ok: true, result: "aa" });
    expect(state.commandsApplied).toBe(2);
  });

  // Raft thesis §6.3: a session the table no longer holds must not look new, or a retry of a
  // command it already applied would apply twice.
  it("refuses a retry from an evicted session with SESSION_EXPIRED instead of applying it again", () => {
    const state = new ReplicatedState(kvPlugin, 2);
    const append = (clientId: string) => ({ op: { f: "append", key: "k", value: "a" }, session: { clientId, seq: 1 } });
    const ids: string[] = [];
    for (const index of [1, 3, 5]) {
      ids.push(state.openSession(index));
      expect(state.applyCommand(append(ids[ids.length - 1]!))).toEqual({ ok: true, result: null });
    }
    const retry = state.applyCommand(append(ids[0]!)); // the least recently used session: expired
    expect(retry).toMatchObject({ ok: false, code: "SESSION_EXPIRED" });
    expect(state.read({ f: "get", key: "k", value: null })).toEqual({ ok: true, result: "aaa" });
    const unknown = state.applyCommand(append("never-opened"));
    expect(unknown).toMatchObject({ ok: false, code: "SESSION_EXPIRED" });
    expect(state.commandsApplied).toBe(3);
  });

  it("turns a plugin error into a deterministic BAD_REQUEST outcome, cached for the session", () => {
    const state = new ReplicatedState(kvPlugin, 100);
    const bad = { op: { f: "put", key: "k", value: 7 }, session: { clientId: state.openSession(1), seq: 1 } };
    const outcome = state.applyCommand(bad);
    expect(outcome).toMatchObject({ ok: false, code: "BAD_REQUEST" });
    expect(state.applyCommand(bad)).toEqual(outcome);
  });

  it("restores plugin state, sessions and members from its snapshot", () => {
    const state = new ReplicatedState(kvPlugin, 100);
    state.applyCommand(put("a", "1"));
    state.applyCommand({ ...put("b", "2"), session: { clientId: state.openSession(2), seq: 5 } });
    state.addMember(4, { peerAddress: "127.0.0.1:1", clientAddress: "127.0.0.1:2" });
    const copy = new ReplicatedState(kvPlugin, 100);
    copy.restore(state.snapshotData(), "test");
    expect(copy.read({ f: "get", key: "b", value: null })).toEqual({ ok: true, result: "2" });
    expect(copy.sessions.check("2", 5)).toEqual({ kind: "duplicate", outcome: { ok: true, result: null } });
    expect(copy.members.get(4)).toEqual({ peerAddress: "127.0.0.1:1", clientAddress: "127.0.0.1:2" });
    expect(copy.snapshotData()).toEqual(state.snapshotData());
  });

  it("restores in slices (beginRestore): the old state, sessions and members stay until the last step, and a bad snapshot leaves them", () => {
    const state = new ReplicatedState(kvPlugin, 100);
    for (let i = 0; i < 50; i++) {
      state.applyCommand(put(`k${i}`, "v".repeat(20)));
    }
    state.applyCommand({ ...put("b", "2"), session: { clientId: state.openSession(2), seq: 5 } });
    state.addMember(4, { peerAddress: "127.0.0.1:1" });
    const writer = state.beginSnapshot(256);
    let data = writer.step();
    while (data === undefined) {
      data = writer.step();
    }
    const copy = new ReplicatedState(kvPlugin, 100);
    copy.applyCommand(put("old", "1"));
    const restorer = copy.beginRestore(data, "test", 64);
    let steps = 0;
    while (!restorer.step()) {
      steps += 1;
      expect(copy.read({ f: "get", key: "old", value: null })).toEqual({ ok: true, result: "1" });
      expect(copy.members.size).toBe(0);
    }
    expect(steps).toBeGreaterThan(10);
    expect(copy.read({ f: "get", key: "old", value: null })).toEqual({ ok: true, result: null });
    expect(copy.sessions.check("2", 5)).toEqual({ kind: "duplicate", outcome: { ok: true, result: null } });
    expect(copy.members.get(4)).toEqual({ peerAddress: "127.0.0.1:1" });
    expect(copy.snapshotData()).toEqual(state.snapshotData());

    const truncated = new ReplicatedState(kvPlugin, 100);
    truncated.applyCommand(put("old", "1"));
    const failing = truncated.beginRestore(data.subarray(0, data.length - 1), "snapshot at index 9", 64);
    expect(() => {
      while (!failing.step()) {
        // until it throws
      }
    }).toThrow(/kv snapshot: line \d+: /);
    expect(truncated.read({ f: "get", key: "old", value: null })).toEqual({ ok: true, result: "1" });
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
      const state = new ReplicatedState(kvPlugin, 100, undefined, { snapshotWithoutSessions });
      state.openSession(3);
      const append = { op: { f: "append", key: "k", value: "a" }, session: { clientId: "3", seq: 1 } };
      state.applyCommand(append);
      const installed = new ReplicatedState(kvPlugin, 100, undefined, { snapshotWithoutSessions });
      installed.restore(state.snapshotData(), "test");
      installed.applyCommand(append); // the client's retry of seq 1, committed after the snapshot
      const value = installed.read({ f: "get", key: "k", value: null });
      expect(value).toEqual({ ok: true, result: snapshotWithoutSessions ? "aa" : "a" });
    }
  });
});

describe("ReplicatedState.beginSnapshot (issue 11, defect 3)", () => {
  function serialiseAll(state: ReplicatedState, between: () => void): { data: Uint8Array; steps: number } {
    const serialiser = state.beginSnapshot(64);
    for (let steps = 1; ; steps++) {
      const data = serialiser.step();
      if (data !== undefined) {
        return { data, steps };
      }
      between();
    }
  }

  it("serialises the state and sessions as they were at the call, in steps, while commands keep applying", () => {
    const state = new ReplicatedState(kvPlugin, 100);
    state.openSession(1);
    for (let i = 0; i < 40; i++) {
      state.applyCommand({ op: { f: "put", key: `k${i}`, value: `v${i}` }, session: { clientId: "1", seq: i + 1 } });
    }
    const expected = state.snapshotData();
    let seq = 41;
    const { data, steps } = serialiseAll(state, () => {
      state.applyCommand({ op: { f: "put", key: `k${seq % 40}`, value: "later" }, session: { clientId: "1", seq } });
      seq += 1;
    });
    expect(steps).toBeGreaterThan(5);
    const copy = new ReplicatedState(kvPlugin, 100);
    copy.restore(data, "test");
    expect(copy.snapshotData()).toEqual(expected);
  });

  it("a plugin without beginSnapshot (third-party) is serialised in one step by snapshot()", () => {
    const plain = {
      ...kvPlugin,
      createStateMachine: () => {
        const machine = kvPlugin.createStateMachine();
        return { apply: machine.apply.bind(machine), snapshot: machine.snapshot.bind(machine), restore: machine.restore.bind(machine) };
      },
    };
    const state = new ReplicatedState(plain, 100);
    state.applyCommand(put("a", "1"));
    const { data, steps } = serialiseAll(state, () => undefined);
    expect(steps).toBe(1);
    expect(data).toEqual(state.snapshotData());
  });
});
