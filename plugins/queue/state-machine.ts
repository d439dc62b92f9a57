// The queue state machine: a FIFO of items. Dequeue advances a head index (amortised O(1)) and
// compacts the array once the consumed prefix is both large and at least half of it.
import { PluginError, type Json, type Operation, type StateMachine } from "../api.js";
import { decodeSnapshot, encodeSnapshot } from "../snapshot-codec.js";
import { isQueueItem, parseQueueCommand, QUEUE_PLUGIN_NAME, type QueueItem } from "./queue-command.js";

const SNAPSHOT_VERSION = 1;
const COMPACT_HEAD_MIN = 1024;

export class QueueStateMachine implements StateMachine {
  #items: QueueItem[] = [];
  /** Index of the first item still queued. Invariant: 0 <= head <= items.length. */
  #head = 0;

  apply(op: Operation): Json {
    const command = parseQueueCommand(op);
    switch (command.f) {
      case "enqueue":
        this.#items.push(command.item);
        return null;
      case "dequeue":
        return this.#dequeue();
      case "size":
        return this.#items.length - this.#head;
    }
  }

  snapshot(): Uint8Array {
    return encodeSnapshot(QUEUE_PLUGIN_NAME, SNAPSHOT_VERSION, this.#items.slice(this.#head));
  }

  restore(data: Uint8Array): void {
    const items = decodeSnapshot(data, QUEUE_PLUGIN_NAME, SNAPSHOT_VERSION);
    if (!Array.isArray(items)) {
      throw new PluginError("BAD_SNAPSHOT", `queue snapshot: field "state" must be an array of items`);
    }
    const badIndex = items.findIndex((item) => !isQueueItem(item));
    if (badIndex !== -1) {
      throw new PluginError("BAD_SNAPSHOT", `queue snapshot: state[${badIndex}] must be a string or a finite number, got ${JSON.stringify(items[badIndex])}`);
    }
    this.#items = items as QueueItem[];
    this.#head = 0;
  }

  #dequeue(): QueueItem | null {
    if (this.#head === this.#items.length) {
      return null;
    }
    const item = this.#items[this.#head];
    if (item === undefined) {
      throw new Error(`invariant: queue head ${this.#head} < length ${this.#items.length} has an item`);
    }
    this.#head += 1;
    if (this.#head >= COMPACT_HEAD_MIN && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}
