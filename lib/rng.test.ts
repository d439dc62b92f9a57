import { describe, expect, test } from "vitest";
import { InvariantError } from "./assert.js";
import { SeededRng, seededRandom } from "./rng.js";

const draws = (rng: SeededRng, count: number): number[] => Array.from({ length: count }, () => rng.nextUint32());

describe("SeededRng", () => {
  test("a seed fixes the stream: mulberry32, the values recorded seeds replay", () => {
    // The simulator's and the checker tests' seeds were chosen for what they produce: a change of
    // algorithm would silently change every one of them.
    expect(draws(new SeededRng(1), 4)).toEqual(draws(new SeededRng(1), 4));
    expect(draws(new SeededRng(0), 3)).toMatchInlineSnapshot(`
      [
        1144304738,
        1416247,
        958946056,
      ]
    `);
    expect(draws(new SeededRng(42), 3)).toMatchInlineSnapshot(`
      [
        2581720956,
        1925393290,
        3661312704,
      ]
    `);
    // Negative seeds are their low 32 bits; wider seeds fold their high bits in.
    expect(draws(new SeededRng(-1), 3)).toEqual(draws(new SeededRng(2 ** 32 - 1), 3));
    expect(draws(new SeededRng(2 ** 53 - 1), 3)).toMatchInlineSnapshot(`
      [
        2626253659,
        2868119894,
        3148856267,
      ]
    `);
  });

  test("nearby seeds and seeds differing only in their high bits give unrelated streams", () => {
    const first = draws(new SeededRng(1), 8);
    expect(draws(new SeededRng(2), 8)).not.toEqual(first);
    expect(draws(new SeededRng(1 + 2 ** 40), 8)).not.toEqual(first);
  });

  test("refuses a seed that is fractional or unsafe", () => {
    for (const seed of [1.5, 2 ** 53, -(2 ** 53), Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new SeededRng(seed)).toThrow(RangeError);
    }
  });

  test("int stays in range and is roughly uniform", () => {
    const rng = new SeededRng(99);
    const counts = [0, 0, 0, 0];
    for (let draw = 0; draw < 40_000; draw += 1) {
      const value = rng.int(4);
      counts[value] = (counts[value] ?? 0) + 1;
    }
    expect(counts.every((count) => count > 9_500 && count < 10_500)).toBe(true);
    expect(() => rng.int(0)).toThrow(InvariantError);
    expect(() => rng.int(2.5)).toThrow(InvariantError);
  });

  test("next is in [0, 1) and seededRandom draws the same stream", () => {
    const rng = new SeededRng(5);
    const random = seededRandom(5);
    for (let draw = 0; draw < 1000; draw += 1) {
      const value = rng.next();
      expect(value >= 0 && value < 1).toBe(true);
      expect(random()).toBe(value);
    }
  });

  test("shuffle is a permutation, in place, and replays from the seed", () => {
    const items = Array.from({ length: 20 }, (_, index) => index);
    const once = new SeededRng(7).shuffle([...items]);
    expect([...once].sort((a, b) => a - b)).toEqual(items);
    expect(new SeededRng(7).shuffle([...items])).toEqual(once);
    expect(once).not.toEqual(items);
    const target = [1, 2, 3];
    expect(new SeededRng(1).shuffle(target)).toBe(target);
    expect(new SeededRng(1).shuffle([])).toEqual([]);
  });

  test("shuffle gives every order of three items about equally often", () => {
    const rng = new SeededRng(3);
    const counts = new Map<string, number>();
    for (let round = 0; round < 60_000; round += 1) {
      const order = rng.shuffle(["a", "b", "c"]).join("");
      counts.set(order, (counts.get(order) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    expect([...counts.values()].every((count) => count > 9_400 && count < 10_600)).toBe(true);
  });

  test("pick draws from the list and refuses an empty one", () => {
    const rng = new SeededRng(11);
    const seen = new Set(Array.from({ length: 100 }, () => rng.pick(["x", "y", "z"])));
    expect([...seen].sort()).toEqual(["x", "y", "z"]);
    expect(() => rng.pick([])).toThrow(InvariantError);
  });

  test("fork gives a stream of its own, fixed by the parent's seed", () => {
    const parent = new SeededRng(42);
    const child = parent.fork();
    const again = new SeededRng(42).fork();
    expect(draws(child, 8)).toEqual(draws(again, 8));
    expect(draws(new SeededRng(42).fork(), 8)).not.toEqual(draws(new SeededRng(42), 8));
  });
});
