// A client worker: one closed loop that turns generated operations into client calls and history
// events. It plays Jepsen "processes": an integer id with at most one operation open. After an
// `info` the old operation may still take effect at any time, so the worker continues under a NEW
// process id and the old one never invokes again.
import type { InvokeOptions, ClientOutcome } from "../../node/client/raft-client.js";
import type { Json, Operation } from "../../plugins/api.js";
import type { GeneratedOperation } from "../generator/generator.js";
import type { HistoryWriter } from "../../history/writer.js";
import { deadlineAfter } from "../../lib/deadline.js";

/** What a worker calls: the RaftClient, structurally. */
export interface OperationInvoker {
  invoke(op: Operation, options: InvokeOptions): Promise<ClientOutcome>;
}

/** Hands out process ids: the first `concurrency` go to workers, the rest replace retired ones. */
export class ProcessIds {
  constructor(private nextId: number) {}
  next(): number {
    const id = this.nextId;
    this.nextId += 1;
    return id;
  }
}

/** Live outcome counts for progress lines. */
export interface OutcomeCounts {
  ok: number;
  fail: number;
  info: number;
}

export interface WorkerOptions {
  /** Runs state-changing operations (and reads, without `readClient`). */
  client: OperationInvoker;
  /**
   * Runs read-only operations. Jepsen binds each client to a node; here a worker's reads start at
   * its home node and stay wherever a read last succeeded, so a node that serves reads it should
   * not (a partitioned or lagging one) is exercised, while a correct cluster redirects to the leader.
   */
  readClient?: OperationInvoker;
  history: HistoryWriter;
  processIds: ProcessIds;
  /**
   * Limit of one operation, retries included. The client enforces it itself (it knows whether a
   * late call is definitely failed or unknown); the worker aborts a call only a grace period later.
   */
  timeoutMs: number;
  counts: OutcomeCounts;
  /** Aborts in-flight calls (SIGINT, a crash): their operations end as `info`. */
  hardStop: AbortSignal;
}

export interface Completion {
  type: "ok" | "fail" | "info";
  value: Json;
}

/** How long after its timeout a call is aborted, should the client not have ended it. */
const abortGraceMs = 1_000;

export class Worker {
  private processId: number;

  constructor(private readonly options: WorkerOptions) {
    this.processId = options.processIds.next();
  }

  get process(): number {
    return this.processId;
  }

  /** Invokes one operation and records its invoke and completion events. Never throws. */
  async perform(operation: GeneratedOperation): Promise<Completion> {
    const { history, counts } = this.options;
    const client = operation.readOnly ? (this.options.readClient ?? this.options.client) : this.options.client;
    const process = this.processId;
    const base = { process, f: operation.f, key: operation.key };
    history.append({ ...base, type: "invoke", value: operation.value });
    const deadline = deadlineAfter(this.options.timeoutMs + abortGraceMs, this.options.hardStop);
    let outcome: ClientOutcome;
    try {
      outcome = await client.invoke({ f: operation.f, key: operation.key, value: operation.value }, { readOnly: operation.readOnly, signal: deadline.signal });
    } catch (error) {
      // A client that throws leaves the operation's fate unknown: "when in doubt, info".
      outcome = { type: "info", error: { code: "ABORTED", message: error instanceof Error ? error.message : String(error) }, node: undefined };
    } finally {
      deadline.dispose();
    }
    const node = outcome.node === undefined ? {} : { node: String(outcome.node) };
    counts[outcome.type] += 1;
    if (outcome.type === "ok") {
      history.append({ ...base, type: "ok", value: outcome.value, ...node });
      return { type: "ok", value: outcome.value };
    }
    history.append({ ...base, type: outcome.type, value: operation.value, error: describeError(outcome.error), ...node });
    if (outcome.type === "info") {
      this.processId = this.options.processIds.next();
    }
    return { type: outcome.type, value: operation.value };
  }
}

function describeError(error: { code: string; message: string }): string {
  return error.message.startsWith(error.code) ? error.message : `${error.code}: ${error.message}`;
}
