// The RequestRouter through its narrow RouterNode port: a fake node records what the router gives
// the core, and the test plays the Ready loop's events back (applied outcomes, leadership changes).
import { describe, expect, test } from "vitest";
import { kvPlugin } from "../../../plugins/kv/index.js";
import type { ClientResponse } from "../../protocol/client-protocol.js";
import type { SoftState } from "../../raft/raw-node.js";
import { ReplicatedState } from "../replicated-state.js";
import { decodeCommand } from "./command-envelope.js";
import { RequestRouter, type RouterNode } from "./request-router.js";

const REQUEST_TIMEOUT_MS = 1_000;

function fakeNode(options: { leader: boolean }): RouterNode & { proposals: Uint8Array[]; kicks: number; softState: SoftState } {
  const leaderState: SoftState = { role: "leader", leader: 1 };
  const followerState: SoftState = { role: "follower", leader: 2 };
  const node = {
    config: {
      id: 1,
      tickMs: 10,
      electionTicks: 20,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      unsafe: new Set<never>(),
      peerClients: new Map([[2, "10.0.0.2:7001"]]),
    },
    proposals: [] as Uint8Array[],
    kicks: 0,
    rawNode: {
      propose: (data: Uint8Array) => void node.proposals.push(data),
      proposeConfChange: () => undefined,
      readIndex: () => undefined,
      transferLeader: () => undefined,
      status: () => ({ id: 1, role: "leader" as const, term: 3, vote: 1, commit: 7, applied: 7, lastIndex: 9, leader: 1, voters: [1, 2, 3] }),
    },
    state: new ReplicatedState(kvPlugin, 100),
    softState: options.leader ? leaderState : followerState,
    get isLeader() {
      return node.softState.role === "leader";
    },
    applied: 7,
    confState: { voters: [1, 2, 3] },
    kick: () => void node.kicks++,
    setFailpoint: (request: { id: number }) => ({ id: request.id, ok: false, code: "BAD_REQUEST", message: "no failpoints" }) as ClientResponse,
    peerLastHeardMs: () => undefined,
    refuseProposal: () => false,
  };
  return node;
}

function collect(): { replies: ClientResponse[]; reply: (response: ClientResponse) => void } {
  const replies: ClientResponse[] = [];
  return { replies, reply: (response) => replies.push(response) };
}

describe("RequestRouter", () => {
  test("a command is proposed with a request id and answered once its entry applies", () => {
    const node = fakeNode({ leader: true });
    const router = new RequestRouter(node);
    const { replies, reply } = collect();
    router.handle({ id: 5, type: "command", op: { f: "put", key: "k", value: "v" }, session: { clientId: "9", seq: 1 } }, reply);
    expect(node.proposals).toHaveLength(1);
    expect(node.kicks).toBe(1);
    expect(replies).toEqual([]);
    const envelope = decodeCommand(node.proposals[0]!, 10);
    expect(envelope).toMatchObject({ op: { f: "put", key: "k", value: "v" }, session: { clientId: "9", seq: 1 } });
    const requestId = (envelope as { requestId: number }).requestId;
    router.onCommandApplied(requestId + 1, { ok: true, result: "someone else's" });
    expect(replies).toEqual([]);
    router.onCommandApplied(requestId, { ok: true, result: null });
    expect(replies).toEqual([{ id: 5, ok: true, result: null }]);
  });

  test("the beforePropose failpoint armed with error refuses a command with UNAVAILABLE before anything is proposed", () => {
    const node = { ...fakeNode({ leader: true }), refuseProposal: () => true };
    const router = new RequestRouter(node);
    const { replies, reply } = collect();
    router.handle({ id: 3, type: "command", op: { f: "put", key: "k", value: "v" } }, reply);
    expect(node.proposals).toEqual([]);
    expect(replies).toEqual([{ id: 3, ok: false, code: "UNAVAILABLE", message: "proposal refused by the beforePropose failpoint" }]);
  });

  test("a follower refuses commands and reads with NOT_LEADER and a hint to the leader's client port", () => {
    const node = fakeNode({ leader: false });
    const router = new RequestRouter(node);
    const { replies, reply } = collect();
    router.handle({ id: 1, type: "command", op: { f: "put", key: "k", value: "v" } }, reply);
    router.handle({ id: 2, type: "read", op: { f: "get", key: "k", value: null } }, reply);
    expect(node.proposals).toEqual([]);
    expect(replies).toEqual([
      { id: 1, ok: false, code: "NOT_LEADER", message: "node 2 is the leader", leader: { nodeId: 2, clientAddress: "10.0.0.2:7001" } },
      { id: 2, ok: false, code: "NOT_LEADER", message: "node 2 is the leader", leader: { nodeId: 2, clientAddress: "10.0.0.2:7001" } },
    ]);
  });

  test("an operation the plugin lacks, or a write sent as a read, is a BAD_REQUEST before anything is proposed", () => {
    const node = fakeNode({ leader: true });
    const router = new RequestRouter(node);
    const { replies, reply } = collect();
    router.handle({ id: 1, type: "command", op: { f: "frobnicate", key: "k", value: null } }, reply);
    router.handle({ id: 2, type: "read", op: { f: "put", key: "k", value: "v" } }, reply);
    expect(node.proposals).toEqual([]);
    expect(replies.map((response) => (response.ok ? "ok" : `${response.code}: ${response.message}`))).toEqual([
      expect.stringMatching(/^BAD_REQUEST: field op.f: "frobnicate" is not an operation of plugin kv/),
      'BAD_REQUEST: field op.f: "put" changes state; send it as a command, not a read',
    ]);
  });

  test("losing the leadership fails pending commands with LEADERSHIP_LOST (they may still commit)", () => {
    const node = fakeNode({ leader: true });
    const router = new RequestRouter(node);
    const { replies, reply } = collect();
    router.handle({ id: 7, type: "command", op: { f: "put", key: "k", value: "v" } }, reply);
    router.onLeadership({ role: "leader", leader: 1 }, { role: "follower", leader: 2 }, true);
    expect(replies).toEqual([
      { id: 7, ok: false, code: "LEADERSHIP_LOST", message: "node 1 lost the leadership before the entry was applied; it may still commit" },
    ]);
  });

  test("a command not applied by its deadline times out with an unknown outcome", () => {
    const node = fakeNode({ leader: true });
    const router = new RequestRouter(node);
    const { replies, reply } = collect();
    router.handle({ id: 8, type: "command", op: { f: "put", key: "k", value: "v" } }, reply);
    router.sweep(performance.now() + REQUEST_TIMEOUT_MS / 2);
    expect(replies).toEqual([]);
    router.sweep(performance.now() + REQUEST_TIMEOUT_MS + 1);
    expect(replies).toMatchObject([{ id: 8, ok: false, code: "TIMEOUT" }]);
  });

  test("status reports the role the node acts on and the applied index", () => {
    const router = new RequestRouter(fakeNode({ leader: true }));
    expect(router.status()).toEqual({ nodeId: 1, role: "leader", term: 3, leader: 1, commit: 7, applied: 7, lastIndex: 9, voters: [1, 2, 3], plugin: "kv" });
  });
});
