// Seeded pseudo-random numbers (mulberry32): the core never touches Math.random, so a seed
// fixes every election timeout and a simulation replays exactly.
import { assert } from "../../lib/assert.js";

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

export function createRng(seed: number): Rng {
  assert(Number.isSafeInteger(seed), "rng: the seed must be a safe integer");
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => {
    assert(Number.isSafeInteger(n) && n > 0, "rng: int(n) needs a positive integer n");
    return Math.floor(next() * n);
  };
  return { next, int };
}
