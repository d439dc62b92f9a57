// The fault plan: which fault each step of the nemesis schedule injects, when it starts and heals
// (milliseconds after the schedule starts), and the seed of the step's own random draws (which
// nodes a partition or kill hits). It is a pure function of the seed, the fault list and the
// timings, so every plugin run with the same seed meets the same faults at the same times on the
// same nodes (`raftlab compare` relies on it). Leader-aimed faults hit whichever node leads then.
// Each step draws from its own generator, so a step that fails (no leader) never shifts the next.
import { SeededRng } from "../../lib/rng.js";

export interface FaultStep {
  /** 0, 1, 2, ... */
  step: number;
  /** Index into the schedule's fault list. */
  fault: number;
  /** When to inject, in ms after the schedule starts. */
  startMs: number;
  /** When to heal, in ms after the schedule starts (at most the schedule's duration). */
  healMs: number;
  /** Seeds the step's random choices (targets, shuffles). */
  seed: number;
}

export interface FaultPlanOptions {
  seed: number;
  /** How many faults the workload lists (the plan picks among their indices). */
  faultCount: number;
  /** Quiet time before each fault. */
  intervalMs: number;
  /** How long each fault lasts (default: intervalMs). */
  faultDurationMs?: number;
  /** No fault starts at or after this time; one in force then is healed at it. */
  durationMs: number;
}

/** Steps in time order: quiet interval, fault, quiet interval, fault, ... until durationMs. */
export function planFaultSteps(options: FaultPlanOptions): FaultStep[] {
  const { seed, faultCount, intervalMs, durationMs } = options;
  const faultDurationMs = options.faultDurationMs ?? intervalMs;
  if (!(intervalMs > 0) || !(faultDurationMs > 0)) {
    throw new RangeError(`fault plan: intervals must be positive, got ${intervalMs} ms and ${faultDurationMs} ms`);
  }
  if (faultCount === 0) {
    return [];
  }
  // A stream of its own, apart from the operation generator's (seeded from the same seed).
  const rng = new SeededRng(seed).fork();
  const steps: FaultStep[] = [];
  for (let step = 0; ; step += 1) {
    const startMs = step * (intervalMs + faultDurationMs) + intervalMs;
    if (startMs >= durationMs) {
      return steps;
    }
    const fault = rng.int(faultCount);
    steps.push({ step, fault, startMs, healMs: Math.min(startMs + faultDurationMs, durationMs), seed: rng.nextUint32() });
  }
}
