// Spaces operations evenly when a workload sets `clients.rate`: slot i opens at start + i / rate,
// shared by every worker, so the total rate holds whatever the concurrency.
import { sleep } from "../../lib/deadline.js";

export class RateLimiter {
  private readonly intervalMs: number;
  private nextSlotMs: number | undefined;

  constructor(rateOpsPerSecond: number) {
    if (!(rateOpsPerSecond > 0) || !Number.isFinite(rateOpsPerSecond)) {
      throw new RangeError(`rate must be a positive number of operations per second, got ${rateOpsPerSecond}`);
    }
    this.intervalMs = 1_000 / rateOpsPerSecond;
  }

  /** Waits for the next free slot; rejects with the signal's reason when it aborts first. */
  async acquire(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const nowMs = performance.now();
    // A slot left unused while every worker was busy is not saved up: no bursts after a stall.
    const slotMs = Math.max(nowMs, this.nextSlotMs ?? nowMs);
    this.nextSlotMs = slotMs + this.intervalMs;
    if (slotMs > nowMs) {
      await sleep(slotMs - nowMs, signal);
    }
  }
}
