// Turns client requests into core inputs and answers them when their effect is known: commands
// once the proposed entry is applied (found by the request id it carries), reads once a batched
// ReadIndex is confirmed and applied, membership changes once the confChange entry is applied,
// leadership transfers once the new leader is seen. Leadership loss fails what is pending with
// LEADERSHIP_LOST (the entry may still commit: indeterminate); deadlines give TIMEOUT.
import type { FailpointName } from "../../protocol/failpoints.js";
import { PluginError, type Json, type Operation, type StateMachine } from "../../../plugins/api.js";
import type { ClientRequest, ClientResponse, ErrorCode, LeaderHint, NodeStatus } from "../../protocol/client-protocol.js";
import type { ConfState } from "../../raft/messages.js";
import type { SoftState } from "../../raft/raw-node.js";
import type { ClientRequestHandler, Reply } from "./client-api.js";
import { encodeCommand, encodeMemberContext, encodeOpenSession } from "./command-envelope.js";
import type { RawNode } from "../../raft/raw-node.js";
import type { NodeConfig } from "../config/config.js";
import type { ReplicatedState } from "../replicated-state.js";
import { PendingRequests } from "./pending-requests.js";
import { ReadBatcher } from "./read-batcher.js";
import type { CommandOutcome } from "./sessions.js";
import { checkReconfiguration } from "./reconfiguration-check.js";
import { StateHashWaiters } from "./state-hash.js";
import { checkedSnapshotBytes } from "../plugin-contract.js";

/** Proposals awaiting their entry, across all client connections. */
const PENDING_COMMANDS_MAX = 65_536;
const PENDING_READS_MAX = 65_536;
/** Read index requests (heartbeat rounds) in flight at once; one is issued per Ready cycle at most. */
const READ_BATCHES_INFLIGHT_MAX = 16;

/** What the router needs of its node: the core's inputs, the replicated state and the pipeline's view. */
export interface RouterNode {
  readonly config: Pick<NodeConfig, "id" | "tickMs" | "electionTicks" | "requestTimeoutMs" | "unsafe" | "peerClients">;
  readonly rawNode: Pick<RawNode, "propose" | "proposeConfChange" | "readIndex" | "transferLeader" | "status">;
  readonly state: ReplicatedState;
  /** Role and leader as the node acts on them (as of the last finished Ready). */
  readonly softState: SoftState;
  readonly isLeader: boolean;
  readonly applied: number;
  readonly confState: ConfState;
  /** Asks for a Ready soon (the router just gave the core an input). */
  kick(): void;
  /** The test-only failpoint request (refused unless the node runs with --failpoints). */
  setFailpoint(request: { id: number; name: FailpointName; action: string }): ClientResponse;
  /** Hits the beforePropose failpoint (a sleep blocks, as a stuck proposal path would); true when armed with error. */
  refuseProposal(): boolean;
  /** When the last message from a peer arrived (performance.now()), for the reconfiguration check. */
  peerLastHeardMs(peerId: number): number | undefined;
}

interface PendingTransfer {
  id: number;
  to: number;
  reply: Reply;
  deadlineMs: number;
}

export class RequestRouter implements ClientRequestHandler {
  readonly #server: RouterNode;
  readonly #commands = new PendingRequests<CommandOutcome>(PENDING_COMMANDS_MAX);
  readonly #confChanges = new PendingRequests<ConfState>(64);
  readonly #reads: ReadBatcher;
  #transfers: PendingTransfer[] = [];
  readonly #stateHashes = new StateHashWaiters();
  /** Unique across this node's lives and (with overwhelming probability) other nodes'. */
  #nextRequestId = Math.floor(Math.random() * 2 ** 51);
  /** ack-before-commit only: a copy of the state machine that applies commands as they are proposed. */
  #speculative: StateMachine | undefined;

  constructor(server: RouterNode) {
    this.#server = server;
    this.#reads = new ReadBatcher({
      requestReadIndex: (context) => server.rawNode.readIndex(context),
      reissueAfterMs: server.config.tickMs * server.config.electionTicks * 2,
      waitingMax: PENDING_READS_MAX,
      inflightMax: READ_BATCHES_INFLIGHT_MAX,
      origin: { nodeId: server.config.id, boot: Math.floor(Math.random() * 2 ** 32) },
    });
  }

  handle(request: ClientRequest, reply: Reply): void {
    switch (request.type) {
      case "status":
        reply({ id: request.id, ok: true, status: this.status() });
        return;
      case "command":
        this.#command(request, reply);
        return;
      case "read":
        this.#read(request, reply);
        return;
      case "openSession":
        this.#openSession(request, reply);
        return;
      case "addMember":
      case "removeMember":
        this.#membership(request, reply);
        return;
      case "transferLeader":
        this.#transferLeader(request, reply);
        return;
      case "stateHash":
        this.#stateHash(request, reply);
        return;
      case "failpoint":
        reply(this.#server.setFailpoint(request));
        return;
      case "authChallenge":
      case "authenticate":
        // The client port answers these itself, per connection (client-api.ts).
        reply(error(request.id, "BAD_REQUEST", `${request.type} is answered by the client port, not routed`));
        return;
    }
  }

  status(): NodeStatus {
    const status = this.#server.rawNode.status();
    // Role and leader as this node acts on them (they change once the Ready reporting them has
    // finished), so a node that says it leads also accepts commands.
    const { role, leader } = this.#server.softState;
    return {
      nodeId: this.#server.config.id,
      role,
      term: status.term,
      leader,
      commit: status.commit,
      applied: this.#server.applied,
      lastIndex: status.lastIndex,
      voters: [...this.#server.confState.voters],
      plugin: this.#server.state.plugin.name,
    };
  }

  #command(request: Extract<ClientRequest, { type: "command" }>, reply: Reply): void {
    const { id } = request;
    const refusal = this.#checkOperation(id, request.op, false) ?? this.#checkLeader(id);
    if (refusal !== undefined) {
      reply(refusal);
      return;
    }
    if (this.#commands.full) {
      reply(error(id, "UNAVAILABLE", `more than ${PENDING_COMMANDS_MAX} commands pending on this node`));
      return;
    }
    const requestId = this.#nextRequestId++;
    const envelope = request.session === undefined ? { op: request.op, requestId } : { op: request.op, session: request.session, requestId };
    if (!this.#propose(id, reply, () => this.#server.rawNode.propose(encodeCommand(envelope)))) {
      return;
    }
    if (this.#speculative !== undefined) {
      reply(outcomeResponse(id, applyTo(this.#speculative, request.op))); // UNSAFE: not yet committed
      return;
    }
    this.#commands.add(requestId, {
      deadlineMs: performance.now() + this.#server.config.requestTimeoutMs,
      settle: (result) => reply(result.ok ? outcomeResponse(id, result.outcome) : error(id, result.code, result.message)),
    });
  }

  /** Opens a session through the log: its id is the index of the entry, known once applied. */
  #openSession(request: Extract<ClientRequest, { type: "openSession" }>, reply: Reply): void {
    const { id } = request;
    const refusal = this.#checkLeader(id);
    if (refusal !== undefined) {
      reply(refusal);
      return;
    }
    if (this.#commands.full) {
      reply(error(id, "UNAVAILABLE", `more than ${PENDING_COMMANDS_MAX} commands pending on this node`));
      return;
    }
    const requestId = this.#nextRequestId++;
    if (!this.#propose(id, reply, () => this.#server.rawNode.propose(encodeOpenSession({ openSession: true, requestId })))) {
      return;
    }
    this.#commands.add(requestId, {
      deadlineMs: performance.now() + this.#server.config.requestTimeoutMs,
      settle: (result) => reply(result.ok ? outcomeResponse(id, result.outcome) : error(id, result.code, result.message)),
    });
  }

  #read(request: Extract<ClientRequest, { type: "read" }>, reply: Reply): void {
    const { id, op } = request;
    const refusal = this.#checkOperation(id, op, true);
    if (refusal !== undefined) {
      reply(refusal);
      return;
    }
    if (this.#server.config.unsafe.has("stale-reads")) {
      reply(outcomeResponse(id, this.#server.state.read(op))); // UNSAFE: local state, any node
      return;
    }
    const notLeader = this.#checkLeader(id);
    if (notLeader !== undefined) {
      reply(notLeader);
      return;
    }
    if (this.#reads.full) {
      reply(error(id, "UNAVAILABLE", `more than ${PENDING_READS_MAX} reads waiting on this node`));
      return;
    }
    this.#reads.add({
      deadlineMs: performance.now() + this.#server.config.requestTimeoutMs,
      serve: () => reply(outcomeResponse(id, this.#server.state.read(op))),
      fail: (code, message) => reply(error(id, code, message)),
    });
    this.#server.kick();
  }

  /** Answered once `atLeast` is applied, on any node (a follower too): see state-hash.ts. */
  #stateHash(request: Extract<ClientRequest, { type: "stateHash" }>, reply: Reply): void {
    if (this.#stateHashes.full) {
      reply(error(request.id, "UNAVAILABLE", "too many stateHash requests waiting on this node"));
      return;
    }
    this.#stateHashes.add({ id: request.id, atLeast: request.atLeast, deadlineMs: performance.now() + this.#server.config.requestTimeoutMs, reply });
    this.#stateHashes.onApplied(this.#server.applied, () => this.#pluginSnapshot());
  }

  #pluginSnapshot(): Uint8Array {
    const state = this.#server.state;
    return checkedSnapshotBytes(state.plugin.name, state.stateMachine.snapshot());
  }

  #membership(request: Extract<ClientRequest, { type: "addMember" | "removeMember" }>, reply: Reply): void {
    const { id, nodeId } = request;
    const notLeader = this.#checkLeader(id);
    if (notLeader !== undefined) {
      reply(notLeader);
      return;
    }
    const voters = this.#server.confState.voters;
    const adding = request.type === "addMember";
    if (voters.includes(nodeId) === adding) {
      reply({ id, ok: true, result: { voters: [...voters] } }); // already done: idempotent
      return;
    }
    if (!adding && voters.length === 1) {
      reply(error(id, "BAD_REQUEST", `field nodeId: cannot remove ${nodeId}, the only voter`));
      return;
    }
    const unsafeChange = checkReconfiguration({
      voters,
      change: { type: request.type, nodeId },
      leaderId: this.#server.config.id,
      isHealthy: (voter) => this.#isHealthyFollower(voter),
    });
    if (unsafeChange !== undefined) {
      reply(error(id, "UNAVAILABLE", unsafeChange));
      return;
    }
    const requestId = this.#nextRequestId++;
    const context = adding
      ? encodeMemberContext({ peerAddress: request.peerAddress, clientAddress: request.clientAddress, requestId })
      : encodeMemberContext({ requestId });
    const type = adding ? "addNode" : "removeNode";
    if (!this.#propose(id, reply, () => this.#server.rawNode.proposeConfChange({ type, nodeId, context }))) {
      return;
    }
    this.#confChanges.add(requestId, {
      deadlineMs: performance.now() + this.#server.config.requestTimeoutMs,
      settle: (result) => reply(result.ok ? { id, ok: true, result: { voters: [...result.outcome.voters] } } : error(id, result.code, result.message)),
    });
  }

  #transferLeader(request: Extract<ClientRequest, { type: "transferLeader" }>, reply: Reply): void {
    const { id, to } = request;
    if (this.#server.softState.leader === to) {
      reply({ id, ok: true, result: { leader: to } });
      return;
    }
    const notLeader = this.#checkLeader(id);
    if (notLeader !== undefined) {
      reply(notLeader);
      return;
    }
    if (!this.#server.confState.voters.includes(to)) {
      reply(error(id, "BAD_REQUEST", `field to: node ${to} is not a voter (voters: ${this.#server.confState.voters.join(",")})`));
      return;
    }
    this.#server.rawNode.transferLeader(to);
    this.#transfers.push({ id, to, reply, deadlineMs: performance.now() + this.#server.config.requestTimeoutMs });
    this.#server.kick();
  }

  /**
   * A follower counts towards a safe reconfiguration when the leader replicates to it (its
   * progress is in the replicate state: its log matches and it is streaming) and it was heard
   * from within two election timeouts.
   */
  #isHealthyFollower(voter: number): boolean {
    const progress = this.#server.rawNode.status().progress?.[voter];
    const heardMs = this.#server.peerLastHeardMs(voter);
    const staleMs = 2 * this.#server.config.electionTicks * this.#server.config.tickMs;
    return progress?.state === "replicate" && heardMs !== undefined && performance.now() - heardMs <= staleMs;
  }

  /** Runs a proposal; answers UNAVAILABLE (nothing proposed) if the core drops it or the beforePropose failpoint refuses it. */
  #propose(id: number, reply: Reply, propose: () => void): boolean {
    if (this.#server.refuseProposal()) {
      reply(error(id, "UNAVAILABLE", "proposal refused by the beforePropose failpoint"));
      return false;
    }
    try {
      propose();
    } catch (failure) {
      if ((failure as { code?: unknown }).code === "PROPOSAL_DROPPED") {
        reply(error(id, "UNAVAILABLE", `proposal dropped: ${(failure as Error).message}`));
        return false;
      }
      throw failure;
    }
    this.#server.kick();
    return true;
  }

  #checkLeader(id: number): ClientResponse | undefined {
    if (this.#server.isLeader) {
      return undefined;
    }
    const leader = this.#server.softState.leader;
    const response = error(id, "NOT_LEADER", leader === 0 ? "no leader is known" : `node ${leader} is the leader`);
    if (leader !== 0 && response.ok === false) {
      response.leader = this.#leaderHint(leader);
    }
    return response;
  }

  #leaderHint(leader: number): LeaderHint {
    const clientAddress = this.#server.config.peerClients.get(leader) ?? this.#server.state.members.get(leader)?.clientAddress;
    return clientAddress === undefined ? { nodeId: leader } : { nodeId: leader, clientAddress };
  }

  #checkOperation(id: number, op: Operation, asRead: boolean): ClientResponse | undefined {
    const plugin = this.#server.state.plugin;
    const spec = Object.hasOwn(plugin.operations, op.f) ? plugin.operations[op.f] : undefined;
    if (spec === undefined) {
      const known = Object.keys(plugin.operations).join(", ");
      return error(id, "BAD_REQUEST", `field op.f: "${op.f}" is not an operation of plugin ${plugin.name} (known: ${known})`);
    }
    if (asRead && !spec.readOnly) {
      return error(id, "BAD_REQUEST", `field op.f: "${op.f}" changes state; send it as a command, not a read`);
    }
    return undefined;
  }

  // ---- events from the Ready loop ----

  onCommandApplied(requestId: number, outcome: CommandOutcome): void {
    this.#commands.resolve(requestId, outcome);
  }

  onConfChangeApplied(requestId: number, confState: ConfState): void {
    this.#confChanges.resolve(requestId, confState);
  }

  onReadState(context: Uint8Array, index: number): void {
    this.#reads.onReadState(context, index);
  }

  /** Called before each Ready: one read index request for the reads queued since the last one. */
  flushReads(): void {
    this.#reads.flush(performance.now());
  }

  onApplied(applied: number): void {
    this.#reads.onApplied(applied);
    this.#stateHashes.onApplied(applied, () => this.#pluginSnapshot());
  }

  /** After each Ready's entries are applied: react to a leader or term change. */
  onLeadership(previous: SoftState, next: SoftState, termChanged: boolean): void {
    const wasLeader = previous.role === "leader";
    const isLeader = next.role === "leader";
    if (wasLeader && (!isLeader || termChanged)) {
      const message = `node ${this.#server.config.id} lost the leadership before the entry was applied; it may still commit`;
      this.#commands.failAll("LEADERSHIP_LOST", message);
      this.#confChanges.failAll("LEADERSHIP_LOST", message);
      this.#reads.failUnconfirmed(`node ${this.#server.config.id} lost the leadership before the read was confirmed`);
    }
    if (this.#server.config.unsafe.has("ack-before-commit")) {
      if (isLeader && (!wasLeader || termChanged)) {
        this.#speculative = this.#server.state.plugin.createStateMachine();
        this.#speculative.restore(this.#server.state.stateMachine.snapshot());
      } else if (!isLeader) {
        this.#speculative = undefined;
      }
    }
    this.#transfers = this.#transfers.filter((transfer) => {
      if (next.leader !== transfer.to) {
        return true;
      }
      transfer.reply({ id: transfer.id, ok: true, result: { leader: transfer.to } });
      return false;
    });
  }

  sweep(nowMs: number): void {
    this.#commands.expire(nowMs, `not applied within ${this.#server.config.requestTimeoutMs} ms; the outcome is unknown`);
    this.#confChanges.expire(nowMs, `membership change not applied within ${this.#server.config.requestTimeoutMs} ms`);
    this.#reads.onTimer(nowMs);
    this.#stateHashes.expire(nowMs, this.#server.applied);
    this.#transfers = this.#transfers.filter((transfer) => {
      if (transfer.deadlineMs > nowMs) {
        return true;
      }
      transfer.reply(error(transfer.id, "TIMEOUT", `node ${transfer.to} did not become the leader in time`));
      return false;
    });
  }

  failAll(code: ErrorCode, message: string): void {
    this.#commands.failAll(code, message);
    this.#confChanges.failAll(code, message);
    this.#reads.failAll(message);
    this.#stateHashes.failAll(code, message);
    for (const transfer of this.#transfers) {
      transfer.reply(error(transfer.id, code, message));
    }
    this.#transfers = [];
  }
}

function error(id: number, code: ErrorCode, message: string): ClientResponse {
  return { id, ok: false, code, message };
}

function outcomeResponse(id: number, outcome: CommandOutcome): ClientResponse {
  return outcome.ok ? { id, ok: true, result: outcome.result } : error(id, outcome.code, outcome.message);
}

function applyTo(stateMachine: StateMachine, op: Operation): CommandOutcome {
  try {
    return { ok: true, result: stateMachine.apply(op) as Json };
  } catch (failure) {
    if (failure instanceof PluginError) {
      return { ok: false, code: "BAD_REQUEST", message: `${failure.code}: ${failure.message}` };
    }
    throw failure;
  }
}
