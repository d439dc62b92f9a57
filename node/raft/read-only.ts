// Linearizable reads without log writes (§6.4, etcd read_only.go): a read gets the leader's commit
// index, then waits for a heartbeat round acknowledged by a majority, which proves that no newer
// leader existed when the read arrived. Heartbeats carry the newest pending read's context; an
// acknowledgement of it also confirms every older pending read.
import type { Message, NodeId } from "./messages.js";
import { assert } from "../../lib/assert.js";

export interface ReadIndexStatus {
  request: Message;
  index: number;
  acks: Set<NodeId>;
}

export function contextKey(context: Uint8Array): string {
  let key = "";
  for (let i = 0; i < context.length; i++) {
    key += String.fromCharCode(context[i] as number);
  }
  return key;
}

export class ReadOnly {
  readonly #pending = new Map<string, ReadIndexStatus>();
  #queue: string[] = [];

  get pendingCount(): number {
    return this.#queue.length;
  }

  /** Queues a read at the leader's current commit index; a repeated context is ignored. */
  addRequest(index: number, request: Message): void {
    const key = contextKey(request.context);
    if (this.#pending.has(key)) {
      return;
    }
    this.#pending.set(key, { request, index, acks: new Set() });
    this.#queue.push(key);
  }

  /** Records that `from` answered a heartbeat carrying context; returns the acks so far. */
  recvAck(from: NodeId, context: Uint8Array): ReadonlySet<NodeId> | undefined {
    const status = this.#pending.get(contextKey(context));
    if (status === undefined) {
      return undefined;
    }
    status.acks.add(from);
    return status.acks;
  }

  /** Removes and returns every read queued up to and including the one with this context. */
  advance(context: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(context);
    const position = this.#queue.indexOf(key);
    if (position < 0) {
      return [];
    }
    const released = this.#queue.slice(0, position + 1);
    this.#queue = this.#queue.slice(position + 1);
    return released.map((k) => {
      const status = this.#pending.get(k);
      assert(status !== undefined, "read-only: queued read without a status");
      this.#pending.delete(k);
      return status;
    });
  }

  lastPendingContext(): Uint8Array | undefined {
    const key = this.#queue[this.#queue.length - 1];
    return key === undefined ? undefined : this.#pending.get(key)?.request.context;
  }

  reset(): void {
    this.#pending.clear();
    this.#queue = [];
  }
}
