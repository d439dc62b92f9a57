// stateHash requests: each waits until the node has applied at least its index, then is answered
// with a SHA-256 of the plugin's snapshot() bytes. Apply is sequential and every waiter due is
// answered in the same onApplied call, so all hashes a node gives for one applied index are of
// the same state. The harness compares them across nodes (harness/checks/replicas.ts).
import { createHash } from "node:crypto";
import type { ClientResponse, ErrorCode, StateHash } from "../../protocol/client-protocol.js";

/** stateHash requests waiting at once; each may serialise the whole state machine. */
export const STATE_HASH_WAITERS_MAX = 64;

interface Waiter {
  id: number;
  atLeast: number;
  deadlineMs: number;
  reply: (response: ClientResponse) => void;
}

export function hashState(snapshotBytes: Uint8Array, applied: number): StateHash {
  return { applied, sha256: createHash("sha256").update(snapshotBytes).digest("hex"), bytes: snapshotBytes.byteLength };
}

export class StateHashWaiters {
  #waiting: Waiter[] = [];

  get full(): boolean {
    return this.#waiting.length >= STATE_HASH_WAITERS_MAX;
  }

  add(waiter: Waiter): void {
    this.#waiting.push(waiter);
  }

  /** Answers every waiter whose index is applied; `snapshot` is called at most once. */
  onApplied(applied: number, snapshot: () => Uint8Array): void {
    const due = this.#waiting.filter((waiter) => waiter.atLeast <= applied);
    if (due.length === 0) {
      return;
    }
    this.#waiting = this.#waiting.filter((waiter) => waiter.atLeast > applied);
    let answer: StateHash | string;
    try {
      answer = hashState(snapshot(), applied);
    } catch (error) {
      answer = error instanceof Error ? error.message : String(error);
    }
    for (const waiter of due) {
      waiter.reply(
        typeof answer === "string"
          ? { id: waiter.id, ok: false, code: "PLUGIN_FAILED", message: answer }
          : { id: waiter.id, ok: true, result: { applied: answer.applied, sha256: answer.sha256, bytes: answer.bytes } },
      );
    }
  }

  expire(nowMs: number, applied: number): void {
    this.#waiting = this.#waiting.filter((waiter) => {
      if (waiter.deadlineMs > nowMs) {
        return true;
      }
      waiter.reply({ id: waiter.id, ok: false, code: "TIMEOUT", message: `index ${waiter.atLeast} not applied in time (applied: ${applied})` });
      return false;
    });
  }

  failAll(code: ErrorCode, message: string): void {
    for (const waiter of this.#waiting) {
      waiter.reply({ id: waiter.id, ok: false, code, message });
    }
    this.#waiting = [];
  }
}
