import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { Ticker } from "./ticker.js";

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

it("delivers one tick per elapsed interval and caps the catch-up after a stall", () => {
  let nowMs = 0;
  let ticks = 0;
  const ticker = new Ticker({ intervalMs: 10, catchUpTicksMax: 3, now: () => nowMs, onTick: () => (ticks += 1) });
  ticker.start();
  nowMs = 10;
  vi.advanceTimersByTime(10);
  expect(ticks).toBe(1);
  nowMs = 120; // the process was stopped for 110 ms: 11 intervals owed
  vi.advanceTimersByTime(10);
  expect(ticks).toBe(4);
  expect(ticker.stats).toEqual({ ticksDelivered: 4, ticksDropped: 8 });
  ticker.stop();
  nowMs = 200;
  vi.advanceTimersByTime(100);
  expect(ticks).toBe(4);
});
