// The EntryApplier through its narrow options: a real ReplicatedState (kv), and recording fakes for
// the core's applyConfChange, the peer directory and the waiting clients.
import { describe, expect, test } from "vitest";
import { kvPlugin } from "../../plugins/kv/index.js";
import type { ConfChange, ConfState, Entry } from "../raft/messages.js";
import { silentLogger } from "../../lib/logger.js";
import { encodeCommand, encodeMemberContext, encodeOpenSession } from "./client-port/command-envelope.js";
import type { CommandOutcome } from "./client-port/sessions.js";
import { encodeConfChangeEntryData } from "./conf-change-data.js";
import { EntryApplier } from "./entry-applier.js";
import { ReplicatedState } from "./replicated-state.js";

function harness(selfId = 1) {
  const state = new ReplicatedState(kvPlugin, 100);
  const commands: [number, CommandOutcome][] = [];
  const confChanges: [number, ConfState][] = [];
  const peers: string[] = [];
  let voters = [1, 2, 3];
  const applier = new EntryApplier({
    selfId,
    state,
    applyConfChange: (change: ConfChange) => {
      voters = change.type === "addNode" ? [...voters, change.nodeId].sort() : voters.filter((id) => id !== change.nodeId);
      return { voters };
    },
    peers: { addPeer: (id, address) => peers.push(`add ${id} ${address}`), removePeer: (id) => peers.push(`remove ${id}`) },
    flagPeerAddress: (id) => (id === 2 ? "proxy:7002" : undefined),
    results: { onCommandApplied: (id, outcome) => commands.push([id, outcome]), onConfChangeApplied: (id, confState) => confChanges.push([id, confState]) },
    logger: silentLogger,
    initialConfState: { voters: [1, 2, 3] },
  });
  return { state, applier, commands, confChanges, peers };
}

function normal(index: number, data: Uint8Array, term = 1): Entry {
  return { term, index, type: "normal", data };
}

describe("EntryApplier", () => {
  test("applies commands in order through the session table and reports each outcome to its request", () => {
    const { state, applier, commands } = harness();
    applier.applyEntries([
      normal(1, new Uint8Array(0)), // a leader's empty entry: only the index moves
      normal(2, encodeOpenSession({ openSession: true, requestId: 10 })),
      normal(3, encodeCommand({ op: { f: "append", key: "k", value: "a" }, session: { clientId: "2", seq: 1 }, requestId: 11 })),
      normal(4, encodeCommand({ op: { f: "append", key: "k", value: "a" }, session: { clientId: "2", seq: 1 }, requestId: 12 })), // a retry
      normal(5, encodeCommand({ op: { f: "get", key: "k", value: null } }), 2), // no request id: proposed elsewhere
    ]);
    expect(commands).toEqual([
      [10, { ok: true, result: "2" }],
      [11, { ok: true, result: null }],
      [12, { ok: true, result: null }],
    ]);
    expect(state.read({ f: "get", key: "k", value: null })).toEqual({ ok: true, result: "a" });
    expect({ applied: applier.applied, appliedTerm: applier.appliedTerm }).toEqual({ applied: 5, appliedTerm: 2 });
  });

  test("skips entries at or below the applied index, and refuses a gap", () => {
    const { applier } = harness();
    applier.applyEntries([normal(1, new Uint8Array(0)), normal(2, new Uint8Array(0))]);
    applier.applyEntries([normal(2, new Uint8Array(0)), normal(3, new Uint8Array(0))]);
    expect(applier.applied).toBe(3);
    expect(() => applier.applyEntries([normal(5, new Uint8Array(0))])).toThrow("invariant: applying entry 5 after applied index 3");
  });

  test("a membership change updates the voters, the address book and the peer transport (flag addresses win)", () => {
    const { state, applier, confChanges, peers } = harness();
    const add = (nodeId: number, requestId: number): Entry => ({
      term: 1,
      index: applier.applied + 1,
      type: "confChange",
      data: encodeConfChangeEntryData({
        type: "addNode",
        nodeId,
        context: encodeMemberContext({ peerAddress: `n${nodeId}:7000`, clientAddress: `n${nodeId}:7001`, requestId }),
      }),
    });
    applier.applyEntries([add(4, 20)]);
    applier.applyEntries([
      { term: 1, index: 2, type: "confChange", data: encodeConfChangeEntryData({ type: "removeNode", nodeId: 3, context: new Uint8Array(0) }) },
    ]);
    expect(applier.confState).toEqual({ voters: [1, 2, 4] });
    expect(confChanges).toEqual([[20, { voters: [1, 2, 3, 4] }]]);
    expect(peers).toEqual(["add 4 n4:7000", "remove 3"]);
    expect(state.members.get(4)).toEqual({ peerAddress: "n4:7000", clientAddress: "n4:7001" });
  });

  test("installing a snapshot replaces the state and connects its voters; a stale one is ignored", () => {
    const source = harness();
    source.applier.applyEntries([normal(1, encodeCommand({ op: { f: "put", key: "x", value: "1" } }))]);
    const data = source.applier.snapshotData();
    const { state, applier, peers } = harness();
    applier.installSnapshot({ metadata: { index: 9, term: 4, confState: { voters: [1, 2, 3] } }, data });
    expect(state.read({ f: "get", key: "x", value: null })).toEqual({ ok: true, result: "1" });
    expect({ applied: applier.applied, appliedTerm: applier.appliedTerm }).toEqual({ applied: 9, appliedTerm: 4 });
    expect(peers).toEqual(["add 2 proxy:7002"]); // node 3's address is unknown: warned, not added
    applier.installSnapshot({ metadata: { index: 5, term: 3, confState: { voters: [1] } }, data: new Uint8Array(0) });
    expect(applier.applied).toBe(9);
  });

  test("beginSnapshot serialises what snapshotData gives, in slices", () => {
    const { applier } = harness();
    applier.applyEntries([normal(1, encodeCommand({ op: { f: "put", key: "x", value: "1".repeat(200_000) } }))]);
    const serialiser = applier.beginSnapshot();
    let steps = 1;
    let data = serialiser.step();
    for (; data === undefined; steps++) {
      data = serialiser.step();
    }
    expect(steps).toBeGreaterThan(1);
    const copy = harness();
    copy.applier.installSnapshot({ metadata: { index: 1, term: 1, confState: { voters: [1, 2, 3] } }, data });
    expect(copy.applier.snapshotData()).toEqual(applier.snapshotData());
  });
});
