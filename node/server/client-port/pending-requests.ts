// Clients waiting for their proposals to be applied, keyed by the request id carried in the log
// entry. Deadlines are swept in arrival order by a coarse timer rather than one timer per request
// (tens of thousands of timers per second cost more than the requests). Bounded: beyond
// `pendingMax` the node answers UNAVAILABLE before proposing.
import type { ErrorCode } from "../../protocol/client-protocol.js";

export interface PendingRequest<Outcome> {
  /** Called once with the applied outcome, or with an error code. */
  settle(result: { ok: true; outcome: Outcome } | { ok: false; code: ErrorCode; message: string }): void;
  deadlineMs: number;
}

export class PendingRequests<Outcome> {
  /** Insertion order = arrival order, and every request has the same timeout: deadlines ascend. */
  readonly #byId = new Map<number, PendingRequest<Outcome>>();

  constructor(readonly pendingMax: number) {}

  get size(): number {
    return this.#byId.size;
  }

  get full(): boolean {
    return this.#byId.size >= this.pendingMax;
  }

  add(requestId: number, request: PendingRequest<Outcome>): void {
    if (this.#byId.has(requestId)) {
      throw new Error(`invariant: request id ${requestId} pending twice`);
    }
    this.#byId.set(requestId, request);
  }

  /** Settles the request with this id if it is waiting here; false if it is not (another node's). */
  resolve(requestId: number, outcome: Outcome): boolean {
    const request = this.#byId.get(requestId);
    if (request === undefined) {
      return false;
    }
    this.#byId.delete(requestId);
    request.settle({ ok: true, outcome });
    return true;
  }

  fail(requestId: number, code: ErrorCode, message: string): void {
    const request = this.#byId.get(requestId);
    if (request !== undefined) {
      this.#byId.delete(requestId);
      request.settle({ ok: false, code, message });
    }
  }

  failAll(code: ErrorCode, message: string): number {
    const requests = [...this.#byId.values()];
    this.#byId.clear();
    for (const request of requests) {
      request.settle({ ok: false, code, message });
    }
    return requests.length;
  }

  /** Fails every request whose deadline has passed with TIMEOUT. */
  expire(nowMs: number, message: string): number {
    let expired = 0;
    for (const [id, request] of this.#byId) {
      if (request.deadlineMs > nowMs) {
        break;
      }
      this.#byId.delete(id);
      request.settle({ ok: false, code: "TIMEOUT", message });
      expired += 1;
    }
    return expired;
  }
}
