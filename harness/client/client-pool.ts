// The run's clients: `concurrency` workers, each with its own client (its own session), driven
// through the main phase (generated operations until told to stop) and the final phase (reads of
// every key, and draining a queue).
import type { FinalPhasePlan } from "../generator/final-reads.js";
import type { GeneratedOperation, OperationGenerator } from "../generator/generator.js";
import type { RateLimiter } from "../generator/rate-limiter.js";
import type { HistoryWriter } from "../../history/writer.js";
import { ProcessIds, Worker, type OperationInvoker, type OutcomeCounts } from "./worker.js";
import { deadlineAfter, linkedSignal } from "../../lib/deadline.js";

export interface ClosableInvoker extends OperationInvoker {
  close(): void | Promise<void>;
}

/** A worker's clients: one for commands, optionally another for reads (see WorkerOptions.readClient). */
export interface WorkerClients {
  client: ClosableInvoker;
  readClient?: ClosableInvoker;
}

export interface ClientPoolOptions {
  concurrency: number;
  /** Clients for the worker with this index (0-based). */
  createClients: (workerIndex: number) => WorkerClients;
  history: HistoryWriter;
  timeoutMs: number;
  /** Aborts in-flight calls at once (SIGINT, a crash). */
  hardStop: AbortSignal;
}

export interface FinalPhaseReport {
  /** Final reads that returned ok, out of those planned. */
  readsOk: number;
  readsPlanned: number;
  /** For a drained queue: whether a dequeue finally answered ok with null (the queue is empty). */
  drained: boolean | undefined;
}

/** Attempts per final read: a read is harmless, so one that fails or times out is tried again. */
const finalReadAttemptsMax = 5;

export class ClientPool {
  readonly counts: OutcomeCounts = { ok: 0, fail: 0, info: 0 };
  private readonly workers: Worker[];
  private readonly clients: ClosableInvoker[];

  constructor(private readonly options: ClientPoolOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${options.concurrency}`);
    }
    const processIds = new ProcessIds(0);
    const clients = Array.from({ length: options.concurrency }, (_, index) => options.createClients(index));
    this.clients = clients.flatMap((worker) => (worker.readClient === undefined ? [worker.client] : [worker.client, worker.readClient]));
    this.workers = clients.map(
      ({ client, readClient }) =>
        new Worker({
          client,
          ...(readClient === undefined ? {} : { readClient }),
          history: options.history,
          processIds,
          timeoutMs: options.timeoutMs,
          counts: this.counts,
          hardStop: options.hardStop,
        }),
    );
  }

  /** Every worker runs generated operations back to back until `stop` aborts; in-flight ones finish. */
  async runMainPhase(generator: OperationGenerator, stop: AbortSignal, limiter: RateLimiter | undefined): Promise<void> {
    const { signal: stopAny, dispose } = linkedSignal(stop, this.options.hardStop);
    try {
      await this.runWorkers(generator, stopAny, limiter);
    } finally {
      dispose();
    }
  }

  private async runWorkers(generator: OperationGenerator, stopAny: AbortSignal, limiter: RateLimiter | undefined): Promise<void> {
    await Promise.all(
      this.workers.map(async (worker) => {
        while (!stopAny.aborted) {
          if (limiter !== undefined) {
            try {
              await limiter.acquire(stopAny);
            } catch {
              break;
            }
          }
          await worker.perform(generator.next());
        }
      }),
    );
  }

  /** Runs the final reads spread over the workers, then the drain, all within `deadlineMs`. */
  async runFinalPhase(plan: FinalPhasePlan, generator: OperationGenerator, deadlineMs: number): Promise<FinalPhaseReport> {
    const { signal: stopAny, dispose } = deadlineAfter(deadlineMs, this.options.hardStop);
    try {
      return await this.runFinalReads(plan, generator, stopAny);
    } finally {
      dispose();
    }
  }

  private async runFinalReads(plan: FinalPhasePlan, generator: OperationGenerator, stopAny: AbortSignal): Promise<FinalPhaseReport> {
    const pending = [...plan.reads];
    let readsOk = 0;
    await Promise.all(
      this.workers.map(async (worker) => {
        for (let read = pending.shift(); read !== undefined && !stopAny.aborted; read = pending.shift()) {
          if (await this.performUntilOk(worker, read, generator, stopAny)) {
            readsOk += 1;
          }
        }
      }),
    );
    const drained = plan.drain === undefined ? undefined : await this.drain(plan.drain, generator, stopAny);
    return { readsOk, readsPlanned: plan.reads.length, drained };
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map(async (client) => client.close()));
  }

  private async performUntilOk(worker: Worker, operation: GeneratedOperation, generator: OperationGenerator, stop: AbortSignal): Promise<boolean> {
    let attempt = operation;
    for (let attempts = 0; attempts < finalReadAttemptsMax && !stop.aborted; attempts += 1) {
      if ((await worker.perform(attempt)).type === "ok") {
        return true;
      }
      attempt = generator.operation(operation.f, operation.key);
    }
    return false;
  }

  /**
   * Dequeues until the queue answers empty. Bounded: the queue cannot hold more values than were
   * ever enqueued, so more dequeues than enqueue invokes (plus slack for failures) means a bug.
   */
  private async drain(f: string, generator: OperationGenerator, stop: AbortSignal): Promise<boolean> {
    const worker = this.workers[0];
    if (worker === undefined) {
      throw new Error("invariant: the pool has a worker");
    }
    const enqueues = this.options.history.events.filter((event) => event.type === "invoke" && event.f === "enqueue").length;
    let consecutiveFailures = 0;
    for (let dequeues = 0; dequeues < enqueues + 100 && !stop.aborted && consecutiveFailures < finalReadAttemptsMax; dequeues += 1) {
      const completion = await worker.perform(generator.operation(f, null));
      if (completion.type === "ok" && completion.value === null) {
        return true;
      }
      consecutiveFailures = completion.type === "ok" ? 0 : consecutiveFailures + 1;
    }
    return false;
  }
}
