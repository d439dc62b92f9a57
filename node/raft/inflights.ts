// The pipelining window of one follower: the last index of every app message in flight, oldest
// first, in a ring buffer. The leader stops sending when the window is full (etcd inflights.go).
import { assert } from "../../lib/assert.js";

export class Inflights {
  /** Ring of last indexes; slot (start + i) % capacity holds the i-th oldest message. */
  readonly #buffer: number[];
  #start = 0;
  #count = 0;

  constructor(readonly capacity: number) {
    assert(Number.isInteger(capacity) && capacity > 0, "inflights: capacity must be a positive integer");
    this.#buffer = new Array<number>(capacity).fill(0);
  }

  get count(): number {
    return this.#count;
  }

  full(): boolean {
    return this.#count === this.capacity;
  }

  /** Records a message whose last entry is `lastIndex`; indexes must increase. */
  add(lastIndex: number): void {
    assert(!this.full(), "inflights: add() on a full window");
    if (this.#count > 0) {
      const newest = this.#buffer[(this.#start + this.#count - 1) % this.capacity];
      assert(newest !== undefined && newest < lastIndex, "inflights: indexes must increase");
    }
    this.#buffer[(this.#start + this.#count) % this.capacity] = lastIndex;
    this.#count++;
  }

  /** Frees every message whose last index is <= index (they were acknowledged). */
  freeLE(index: number): void {
    while (this.#count > 0 && (this.#buffer[this.#start] ?? Infinity) <= index) {
      this.#start = (this.#start + 1) % this.capacity;
      this.#count--;
    }
  }

  /** Frees the oldest message: a heartbeat response proves the follower is alive, so probe again. */
  freeFirstOne(): void {
    if (this.#count > 0) {
      this.#start = (this.#start + 1) % this.capacity;
      this.#count--;
    }
  }

  reset(): void {
    this.#start = 0;
    this.#count = 0;
  }
}
