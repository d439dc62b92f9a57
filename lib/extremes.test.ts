import { describe, expect, it } from "vitest";
import { maxOf } from "./extremes.js";

describe("maxOf", () => {
  it("takes the largest value, or the floor", () => {
    expect(maxOf([3, 9, 2])).toBe(9);
    expect(maxOf([3, 9, 2], 10)).toBe(10);
    expect(maxOf([], 0)).toBe(0);
    expect(maxOf([])).toBe(-Infinity);
  });

  it("handles a million values, where Math.max(...values) overflows the call stack", () => {
    const values = Array.from({ length: 1_000_000 }, (_, index) => index % 1000);
    expect(() => Math.max(...values)).toThrow(RangeError);
    expect(maxOf(values)).toBe(999);
  });
});
