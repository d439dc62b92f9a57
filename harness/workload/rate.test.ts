import { describe, expect, it } from "vitest";
import { parseRateBitsPerSecond, rateBitsPerSecond, rateProblem } from "./rate.js";

describe("link rates", () => {
  it("reads tc's units as bits per second", () => {
    expect(["800bit", "256kbit", "1mbit", "1.5mbit", "2gbit"].map(parseRateBitsPerSecond)).toEqual([800, 256_000, 1_000_000, 1_500_000, 2_000_000_000]);
  });

  it("refuses bytes, spaces, missing units and other spellings", () => {
    expect(["1MB", "1 mbit", "1000", "mbit", "1Mbit", "-1mbit", "1mbps"].map(parseRateBitsPerSecond)).toEqual(Array(7).fill(undefined));
  });

  it("explains a rate out of range or malformed, and accepts the rest", () => {
    expect(rateProblem("1mbit")).toBeUndefined();
    expect(rateProblem("4kbit")).toBe('expected a rate from 8kbit to 100gbit, got "4kbit"');
    expect(rateProblem("fast")).toMatch(/^expected a rate like "256kbit"/);
    expect(() => rateBitsPerSecond("fast")).toThrow(/invariant/);
  });
});
