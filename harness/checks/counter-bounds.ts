// A cheap sanity check for the counter plugin, beyond linearizability: each ok read must lie
// between what surely happened before it and what possibly happened before it returned.
//   surely (D): ok adds that completed before the read was invoked;
//   possibly (P ⊇ D): ok or info adds invoked before the read completed.
// The read must equal sum(D) + sum(S) for some S ⊆ P \ D, so it lies in
//   [sumPositive(D) + sumNegative(P), sumNegative(D) + sumPositive(P)].
import type { HistoryEvent } from "../../history/event.js";
import type { CheckReport } from "./check-report.js";
import { outcomeOf, type OperationPair } from "../../history/operation-pairs.js";

export interface CounterViolation {
  /** History index of the read's completion. */
  index: number;
  process: number;
  value: number;
  lower: number;
  upper: number;
}

export interface CounterBoundsReport extends CheckReport {
  reads: number;
  violationCount: number;
  /** The first violations (at most 20). */
  violations: CounterViolation[];
}

const violationsShownMax = 20;

export function checkCounterBounds(
  pairs: readonly OperationPair[],
  events: readonly HistoryEvent[],
  names = { add: "add", read: "read" },
): CounterBoundsReport {
  // Which adds may have happened: decided by their outcome, known only once the history is read.
  const addDelta = new Map<number, { delta: number; possible: boolean; surely: boolean }>();
  const readInvokes = new Set<number>();
  for (const pair of pairs) {
    const outcome = outcomeOf(pair);
    if (pair.invoke.f === names.add && typeof pair.invoke.value === "number") {
      addDelta.set(pair.invoke.index, { delta: pair.invoke.value, possible: outcome !== "fail", surely: outcome === "ok" });
    } else if (pair.invoke.f === names.read && outcome === "ok" && pair.completion !== undefined) {
      readInvokes.add(pair.invoke.index);
    }
  }
  // One sweep in history order keeps running sums; a read samples D's sums at its invoke and P's at its completion.
  let surelyPositive = 0;
  let surelyNegative = 0;
  let possiblyPositive = 0;
  let possiblyNegative = 0;
  const atInvoke = new Map<number, { surelyPositive: number; surelyNegative: number }>();
  const openAddByProcess = new Map<number, number>();
  const openReadByProcess = new Map<number, number>();
  const violations: CounterViolation[] = [];
  let violationCount = 0;
  let reads = 0;
  for (const event of events) {
    if (event.process === "nemesis") {
      continue;
    }
    if (event.type === "invoke") {
      const add = addDelta.get(event.index);
      if (add !== undefined) {
        openAddByProcess.set(event.process, event.index);
        if (add.possible) {
          possiblyPositive += Math.max(0, add.delta);
          possiblyNegative += Math.min(0, add.delta);
        }
      } else if (readInvokes.has(event.index)) {
        openReadByProcess.set(event.process, event.index);
        atInvoke.set(event.index, { surelyPositive, surelyNegative });
      }
      continue;
    }
    const addIndex = openAddByProcess.get(event.process);
    if (addIndex !== undefined) {
      openAddByProcess.delete(event.process);
      const add = addDelta.get(addIndex);
      if (add?.surely === true) {
        surelyPositive += Math.max(0, add.delta);
        surelyNegative += Math.min(0, add.delta);
      }
      continue;
    }
    const readIndex = openReadByProcess.get(event.process);
    if (readIndex === undefined) {
      continue;
    }
    openReadByProcess.delete(event.process);
    const before = atInvoke.get(readIndex);
    if (before === undefined || event.type !== "ok") {
      throw new Error(`invariant: read at ${readIndex} is an ok read sampled at its invoke`);
    }
    reads += 1;
    const lower = before.surelyPositive + possiblyNegative;
    const upper = before.surelyNegative + possiblyPositive;
    if (typeof event.value !== "number" || event.value < lower || event.value > upper) {
      violationCount += 1;
      if (violations.length < violationsShownMax) {
        violations.push({ index: event.index, process: event.process, value: Number(event.value), lower, upper });
      }
    }
  }
  return { valid: violationCount === 0, reads, violationCount, violations };
}
