import { describe, expect, test } from "vitest";
import { Backoff } from "./backoff.js";

describe("Backoff", () => {
  test("doubles up to the cap, jittered within [ceiling/2, ceiling]", () => {
    const low = new Backoff({ initialDelayMs: 10, maxDelayMs: 100, random: () => 0 });
    expect(Array.from({ length: 6 }, () => low.nextDelayMs())).toEqual([5, 10, 20, 40, 50, 50]);
    const high = new Backoff({ initialDelayMs: 10, maxDelayMs: 100, random: () => 0.999999 });
    const delays = Array.from({ length: 6 }, () => high.nextDelayMs());
    expect(delays.map((d) => Math.round(d))).toEqual([10, 20, 40, 80, 100, 100]);
  });

  test("reset starts the ladder again", () => {
    const backoff = new Backoff({ initialDelayMs: 10, maxDelayMs: 1000, random: () => 0 });
    backoff.nextDelayMs();
    backoff.nextDelayMs();
    expect(backoff.attempt).toBe(2);
    backoff.reset();
    expect(backoff.nextDelayMs()).toBe(5);
  });

  test("rejects nonsensical settings", () => {
    expect(() => new Backoff({ initialDelayMs: 100, maxDelayMs: 10 })).toThrow(RangeError);
  });
});
