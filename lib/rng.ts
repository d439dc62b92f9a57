// The one seeded pseudo-random generator (mulberry32): the Raft core, the simulator, the workload
// generator, the nemesis, the checker's hashes and the test helpers all draw from it, so a seed
// fixes a run and a failure replays. Small and fast; not for cryptography.
import { assert } from "./assert.js";

export class SeededRng {
  #state: number;

  /**
   * `seed`: any safe integer. Seeds in -2^32..2^32-1 give the stream mulberry32 gives for their low
   * 32 bits (what the simulator's and the checker tests' recorded seeds rely on); wider seeds fold
   * their high bits in.
   */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`seed must be a safe integer, got ${seed}`);
    }
    const high = Math.floor(seed / 2 ** 32);
    this.#state = (high === 0 || high === -1 ? seed >>> 0 : (seed >>> 0) ^ Math.imul(high, 0x9e3779b1)) >>> 0;
  }

  /** A uniform integer in [0, 2^32). */
  nextUint32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let mixed = this.#state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return (mixed ^ (mixed >>> 14)) >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** A uniform integer in [0, bound); `bound` a positive safe integer. */
  int(bound: number): number {
    assert(Number.isSafeInteger(bound) && bound > 0, "rng: int(bound) needs a positive integer bound");
    return Math.floor(this.next() * bound);
  }

  /** A uniform element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, "rng: pick() from an empty list");
    return items[this.int(items.length)]!;
  }

  /**
   * Shuffles `items` in place, uniformly (Fisher–Yates), and returns it. Unlike
   * `sort(() => rng.next() - 0.5)`, every order is equally likely and the draws do not depend on
   * the engine's sort algorithm, so a seed replays on every Node version.
   */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i -= 1) {
      const j = this.int(i + 1);
      const held = items[i]!;
      items[i] = items[j]!;
      items[j] = held;
    }
    return items;
  }

  /** A new generator seeded from this one: independent streams from one seed. */
  fork(): SeededRng {
    return new SeededRng(this.nextUint32());
  }
}

/** `next` of a fresh SeededRng, for APIs that take a `() => number` in [0, 1). */
export function seededRandom(seed: number): () => number {
  const rng = new SeededRng(seed);
  return () => rng.next();
}
