// RaftClient: finds the leader and retries only when a retry cannot apply an operation twice.
//
// The rule (Maelstrom's definite/indefinite errors; "when in doubt, info"):
// - Nothing reached a node (connect failed) or the node proved it did nothing (NOT_LEADER,
//   UNAVAILABLE): try another node until the deadline; if the deadline passes, the result is `fail`.
// - A command reached a node and its fate is unknown (timeout, connection lost after the write,
//   TIMEOUT, LEADERSHIP_LOST, SHUTTING_DOWN): the result is `info`, at once, unless re-sending is
//   safe. It is safe for reads (no effect) and for commands carrying a client session: the node
//   deduplicates by (clientId, seq), so the client re-sends the SAME seq until the deadline. The
//   session is opened through the log before the first command (a retried open only opens another);
//   SESSION_EXPIRED (the nodes dropped the session) ends the command and the next one opens a new session.
// - Once any attempt was indeterminate the final result can no longer be `fail`: a later
//   NOT_LEADER (or BAD_REQUEST, SESSION_EXPIRED) does not prove the earlier attempt did nothing.
// What each response or error says is classifyOutcome's table (classify-outcome.ts); #run acts on it.
import type { Json, Operation } from "../../plugins/api.js";
import type { ClientSession, ErrorCode, LeaderHint, NodeStatus, StateHash } from "../protocol/client-protocol.js";
import { deadlineAfter, sleep } from "../../lib/deadline.js";
import type { FailpointName } from "../protocol/failpoints.js";
import { AbortedError, ClientError, NodeRejectedError, type ClientErrorCode } from "./errors.js";
import { classifyOutcome, type AttemptOutcome } from "./classify-outcome.js";
import { silentLogger, type Logger } from "../../lib/logger.js";
import { NodeConnection, type RequestBody } from "./node-connection.js";

/** Where the client reaches a node: structurally the harness's NodeEndpoint. */
export interface ClientNodeAddress {
  id: number;
  /** host:port of the node's client listener. */
  clientAddress: string;
}

export interface RaftClientOptions {
  nodes: readonly ClientNodeAddress[];
  /** Deadline of one invoke, leader discovery and retries included. */
  requestTimeoutMs: number;
  /** Limit of one attempt when a retry would be safe (reads, session commands); default requestTimeoutMs / 3. */
  attemptTimeoutMs?: number;
  /** Limit of one TCP connect; default min(1000, attemptTimeoutMs). */
  connectTimeoutMs?: number;
  /**
   * Attach a client session (clientId, seq) to commands so they can be retried safely (default true).
   * With sessions, commands of one client go out one at a time (the node remembers one seq per session).
   */
  sessions?: boolean;
  /** The cluster secret: connections authenticate with it (administrative requests need it). */
  secret?: Uint8Array | undefined;
  logger?: Logger;
}

export interface OutcomeError {
  code: ErrorCode | ClientErrorCode;
  message: string;
}

/** Jepsen's three outcomes: ok (happened), fail (surely did not happen), info (unknown). */
export type ClientOutcome =
  | { type: "ok"; value: Json; node: number }
  | { type: "fail"; error: OutcomeError; node: number | undefined }
  | { type: "info"; error: OutcomeError; node: number | undefined };
export type Outcome = ClientOutcome;

export interface InvokeOptions {
  /** Read-only operations go as `read` (ReadIndex, no log entry) and are always safe to retry. */
  readOnly: boolean;
  signal?: AbortSignal;
}

interface AttemptPolicy {
  /** Whether re-sending after an indeterminate attempt is safe. */
  retryAfterSend: boolean;
  deadline: number;
  signal: AbortSignal | undefined;
  /** Node to try first; otherwise the last known leader. */
  firstNode?: number;
}

const BACKOFF_BASE_MS = 10;
const BACKOFF_MAX_MS = 250;

export class RaftClient {
  readonly #requestTimeoutMs: number;
  readonly #attemptTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  /** No retry starts with less time than this before the deadline. */
  readonly #attemptWindowMinMs: number;
  readonly #sessions: boolean;
  readonly #logger: Logger;
  readonly #secret: Uint8Array | undefined;
  /** Known nodes in a stable order (rotation order); grows when a hint names a new node. */
  readonly #nodeIds: number[] = [];
  readonly #connections = new Map<number, NodeConnection>();
  #leaderGuess: number | undefined;
  /** The session the nodes opened for this client (the index of its open entry), once opened. */
  #sessionId: string | undefined;
  /** Last session seq used; a retry re-sends the same seq. */
  #seq = 0;
  /** Session commands run one at a time: this settles when the last queued one finishes. */
  #sessionTail: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: RaftClientOptions) {
    if (options.nodes.length === 0) {
      throw new RangeError("RaftClient: options.nodes is empty");
    }
    if (!(options.requestTimeoutMs > 0)) {
      throw new RangeError(`RaftClient: options.requestTimeoutMs must be positive, got ${options.requestTimeoutMs}`);
    }
    this.#requestTimeoutMs = options.requestTimeoutMs;
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? Math.max(1, Math.floor(options.requestTimeoutMs / 3));
    this.#attemptWindowMinMs = Math.min(this.#attemptTimeoutMs / 2, 100);
    this.#connectTimeoutMs = options.connectTimeoutMs ?? Math.min(1000, this.#attemptTimeoutMs);
    this.#sessions = options.sessions ?? true;
    this.#logger = options.logger ?? silentLogger;
    this.#secret = options.secret;
    for (const node of options.nodes) {
      this.#addNode(node.id, node.clientAddress);
    }
  }

  /** Ids of the nodes this client knows, in rotation order. */
  get nodeIds(): readonly number[] {
    return this.#nodeIds;
  }

  /** This client's session id on the nodes, once opened (sessions on). */
  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  /** The node that last answered as leader, if any. */
  get leaderGuess(): number | undefined {
    return this.#leaderGuess;
  }

  /** Makes a node known (e.g. one added to the cluster); an existing id keeps its address. */
  addNode(node: ClientNodeAddress): void {
    this.#addNode(node.id, node.clientAddress);
  }

  /** Runs one operation against the leader. Never throws for operating errors: they become fail/info. */
  async invoke(op: Operation, options: InvokeOptions): Promise<ClientOutcome> {
    const deadline = Date.now() + this.#requestTimeoutMs;
    if (options.readOnly) {
      return this.#run({ type: "read", op }, { retryAfterSend: true, deadline, signal: options.signal });
    }
    if (!this.#sessions) {
      return this.#run({ type: "command", op }, { retryAfterSend: false, deadline, signal: options.signal });
    }
    return this.#inSessionOrder(deadline, options.signal, async () => {
      const clientId = this.#sessionId ?? (await this.#openSession(deadline, options.signal));
      if (typeof clientId !== "string") {
        return clientId;
      }
      this.#seq += 1;
      const session: ClientSession = { clientId, seq: this.#seq };
      const outcome = await this.#run({ type: "command", op, session }, { retryAfterSend: true, deadline, signal: options.signal });
      if (outcome.type !== "ok" && outcome.error.code === "SESSION_EXPIRED" && this.#sessionId === clientId) {
        this.#sessionId = undefined; // the next command opens a new session
      }
      return outcome;
    });
  }

  /**
   * Opens a session through the log; the answer is its id. Retrying is safe (at worst a second
   * session is opened and expires unused). When it fails, the command was not sent: `fail`.
   */
  async #openSession(deadline: number, signal: AbortSignal | undefined): Promise<string | ClientOutcome> {
    const outcome = await this.#run({ type: "openSession" }, { retryAfterSend: true, deadline, signal });
    if (outcome.type !== "ok") {
      return { type: "fail", error: { code: outcome.error.code, message: `opening a session: ${outcome.error.message}` }, node: outcome.node };
    }
    if (typeof outcome.value !== "string") {
      return {
        type: "fail",
        error: { code: "BAD_RESPONSE", message: `node ${outcome.node} answered openSession with ${JSON.stringify(outcome.value)}, not a session id` },
        node: outcome.node,
      };
    }
    this.#sessionId = outcome.value;
    this.#seq = 0;
    return outcome.value;
  }

  /** Asks one node for its status. Throws ClientError or NodeRejectedError. */
  async status(nodeId: number, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<NodeStatus> {
    const response = await this.#connection(nodeId).request(
      { type: "status" },
      { timeoutMs: options.timeoutMs ?? this.#attemptTimeoutMs, signal: options.signal },
    );
    if (!response.ok) {
      throw new NodeRejectedError(response.code, nodeId, response.message);
    }
    if (!("status" in response)) {
      throw new ClientError("BAD_RESPONSE", `node ${nodeId} answered a status request without "status"`, true);
    }
    return response.status;
  }

  /**
   * Asks every node for its status at once and returns the leader of the highest term among those
   * that answer as leader (undefined when none does). Unreachable nodes are skipped.
   */
  async findLeader(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<number | undefined> {
    const statuses = await Promise.allSettled(this.#nodeIds.map((id) => this.status(id, options)));
    let best: NodeStatus | undefined;
    for (const result of statuses) {
      if (result.status === "fulfilled" && result.value.role === "leader") {
        if (best === undefined || result.value.term > best.term) {
          best = result.value;
        }
      }
    }
    options.signal?.throwIfAborted();
    if (best !== undefined) {
      this.#leaderGuess = best.nodeId;
    }
    return best?.nodeId;
  }

  /** Adds a voter through the leader. Not retried once sent: an unknown result is `info`. */
  async addMember(member: { nodeId: number; peerAddress: string; clientAddress: string }, options: { signal?: AbortSignal } = {}): Promise<ClientOutcome> {
    this.#addNode(member.nodeId, member.clientAddress);
    return this.#run({ type: "addMember", ...member }, { retryAfterSend: false, deadline: Date.now() + this.#requestTimeoutMs, signal: options.signal });
  }

  /** Removes a voter through the leader. Not retried once sent. */
  async removeMember(nodeId: number, options: { signal?: AbortSignal } = {}): Promise<ClientOutcome> {
    return this.#run({ type: "removeMember", nodeId }, { retryAfterSend: false, deadline: Date.now() + this.#requestTimeoutMs, signal: options.signal });
  }

  /** Asks the leader to hand leadership to `to`. Not retried once sent. */
  async transferLeader(to: number, options: { signal?: AbortSignal } = {}): Promise<ClientOutcome> {
    return this.#run({ type: "transferLeader", to }, { retryAfterSend: false, deadline: Date.now() + this.#requestTimeoutMs, signal: options.signal });
  }

  /**
   * Asks one node for a hash of its state machine once it has applied `atLeast` (the node answers
   * TIMEOUT after its request timeout). Throws ClientError or NodeRejectedError.
   */
  async stateHash(nodeId: number, atLeast: number, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<StateHash> {
    const response = await this.#connection(nodeId).request(
      { type: "stateHash", atLeast },
      { timeoutMs: options.timeoutMs ?? this.#requestTimeoutMs, signal: options.signal },
    );
    if (!response.ok) {
      throw new NodeRejectedError(response.code, nodeId, response.message);
    }
    const result = "result" in response ? response.result : null;
    if (!isStateHash(result)) {
      throw new ClientError("BAD_RESPONSE", `node ${nodeId} answered stateHash with ${JSON.stringify(result)}`, true);
    }
    return result;
  }

  /** Arms a failpoint on one node (it must run with --failpoints); returns its armed points. */
  async failpoint(nodeId: number, name: FailpointName, action: string, options: { signal?: AbortSignal } = {}): Promise<Json> {
    const response = await this.#connection(nodeId).request({ type: "failpoint", name, action }, { timeoutMs: this.#attemptTimeoutMs, signal: options.signal });
    if (!response.ok) {
      throw new NodeRejectedError(response.code, nodeId, response.message);
    }
    return "result" in response ? response.result : null;
  }

  /** Closes every connection; outstanding invokes end as info (CLIENT_CLOSED). Idempotent. */
  close(): void {
    this.#closed = true;
    for (const connection of this.#connections.values()) {
      connection.close();
    }
  }

  async #run(body: RequestBody, policy: AttemptPolicy): Promise<ClientOutcome> {
    const { signal, deadline } = policy;
    let target = policy.firstNode ?? this.#leaderGuess ?? this.#nodeIds[0]!;
    /** The first indeterminate attempt, if any: from then on the outcome cannot be `fail`. */
    let indeterminate: OutcomeError | undefined;
    let lastError: OutcomeError = { code: "NO_LEADER", message: "no attempt was made before the deadline" };
    let lastNode: number | undefined;
    let misses = 0;

    const finish = (error: OutcomeError): ClientOutcome =>
      indeterminate === undefined
        ? { type: "fail", error, node: lastNode }
        : {
            type: "info",
            error: { code: error.code, message: `${error.message}; an earlier attempt was indeterminate: ${indeterminate.message}` },
            node: lastNode,
          };

    for (;;) {
      if (this.#closed) {
        return finish({ code: "CLIENT_CLOSED", message: "the client was closed" });
      }
      if (signal?.aborted === true) {
        return finish({ code: "ABORTED", message: `${body.type} aborted by the caller` });
      }
      const remainingMs = deadline - Date.now();
      // An attempt started just before the deadline would time out and could only add doubt.
      if (remainingMs <= 0 || (misses > 0 && remainingMs < this.#attemptWindowMinMs)) {
        return finish(indeterminate === undefined ? { code: "NO_LEADER", message: `deadline passed; last error: ${lastError.message}` } : lastError);
      }
      if (misses >= this.#nodeIds.length) {
        // Every node was tried without success: an election is probably under way; back off.
        const backoffMs = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.floor(misses / this.#nodeIds.length - 1));
        try {
          await sleep(Math.min(remainingMs, backoffMs * (0.5 + Math.random() / 2)), signal);
        } catch {
          continue; // the loop head reports the abort
        }
        if (deadline - Date.now() < this.#attemptWindowMinMs) {
          continue;
        }
      }
      const attemptTimeoutMs = policy.retryAfterSend ? Math.min(deadline - Date.now(), this.#attemptTimeoutMs) : deadline - Date.now();
      lastNode = target;
      let attempt: AttemptOutcome;
      let message: string;
      try {
        const response = await this.#connection(target).request(body, { timeoutMs: Math.max(1, attemptTimeoutMs), signal });
        attempt = classifyOutcome(response);
        message = response.ok ? "" : `node ${target}: ${response.message}`;
      } catch (error) {
        if (!(error instanceof ClientError)) {
          throw error;
        }
        attempt = classifyOutcome(error);
        message = error.message;
      }
      if (attempt.type === "ok") {
        this.#leaderGuess = target;
        return { type: "ok", value: attempt.value, node: target };
      }
      lastError = { code: attempt.code, message };
      if (attempt.type === "info") {
        indeterminate ??= lastError;
        if (attempt.retry && !policy.retryAfterSend) {
          return { type: "info", error: lastError, node: target };
        }
      }
      if (!attempt.retry) {
        return finish(lastError);
      }
      misses += 1;
      this.#forgetLeader(target);
      this.#logger.debug("client attempt failed", { node: target, code: attempt.code, outcome: attempt.type });
      target = this.#redirect(target, attempt.leader);
    }
  }

  /** The hinted leader when the hint names another node this client can reach, else the next node in rotation. */
  #redirect(target: number, hint: LeaderHint | undefined): number {
    if (hint !== undefined && hint.nodeId > 0 && hint.nodeId !== target) {
      if (hint.clientAddress !== undefined) {
        this.#addNode(hint.nodeId, hint.clientAddress);
      }
      if (this.#connections.has(hint.nodeId)) {
        this.#leaderGuess = hint.nodeId;
        return hint.nodeId;
      }
    }
    return this.#nextNode(target);
  }

  /** Runs `action` after every earlier session command has finished (or the deadline/abort hits). */
  async #inSessionOrder(deadline: number, signal: AbortSignal | undefined, action: () => Promise<ClientOutcome>): Promise<ClientOutcome> {
    const previous = this.#sessionTail;
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The next command waits for both, so giving up the wait here never lets two run at once.
    this.#sessionTail = Promise.all([previous, mine]);
    try {
      const wait = deadlineAfter(Math.max(1, deadline - Date.now()), signal);
      try {
        await abortableWait(previous, wait.signal);
      } catch {
        const aborted = signal?.aborted === true;
        return {
          type: "fail",
          error: aborted
            ? { code: "ABORTED", message: "aborted while waiting for this client's previous command" }
            : { code: "NO_LEADER", message: "deadline passed while waiting for this client's previous command" },
          node: undefined,
        };
      } finally {
        wait.dispose();
      }
      return await action();
    } finally {
      release();
    }
  }

  #connection(nodeId: number): NodeConnection {
    const connection = this.#connections.get(nodeId);
    if (connection === undefined) {
      throw new ClientError("UNKNOWN_NODE", `node ${nodeId} is not one of ${this.#nodeIds.join(", ")}`, false);
    }
    return connection;
  }

  #addNode(id: number, clientAddress: string): void {
    if (!(Number.isSafeInteger(id) && id > 0)) {
      throw new RangeError(`RaftClient: node id must be a positive integer, got ${id}`);
    }
    if (this.#connections.has(id)) {
      return;
    }
    this.#connections.set(
      id,
      new NodeConnection({ nodeId: id, address: clientAddress, connectTimeoutMs: this.#connectTimeoutMs, secret: this.#secret, logger: this.#logger }),
    );
    this.#nodeIds.push(id);
  }

  #nextNode(current: number): number {
    const index = this.#nodeIds.indexOf(current);
    return this.#nodeIds[(index + 1) % this.#nodeIds.length]!;
  }

  #forgetLeader(nodeId: number): void {
    if (this.#leaderGuess === nodeId) {
      this.#leaderGuess = undefined;
    }
  }
}

function abortableWait(promise: Promise<unknown>, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(new AbortedError("waiting", false));
      return;
    }
    const onAbort = (): void => reject(new AbortedError("waiting", false));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
    );
  });
}

function isStateHash(value: unknown): value is StateHash {
  const fields = value as Partial<Record<keyof StateHash, unknown>> | null;
  return (
    typeof fields === "object" &&
    fields !== null &&
    typeof fields.applied === "number" &&
    typeof fields.sha256 === "string" &&
    /^[0-9a-f]{64}$/.test(fields.sha256) &&
    typeof fields.bytes === "number"
  );
}
