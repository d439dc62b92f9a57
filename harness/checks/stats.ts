// Outcome counts per operation. A run in which nothing succeeded tested nothing: it is invalid.
import type { CheckReport } from "./check-report.js";
import { outcomeOf, type OperationPair } from "../../history/operation-pairs.js";

export interface OutcomeTally {
  invoked: number;
  ok: number;
  fail: number;
  info: number;
}

export interface StatsReport extends CheckReport {
  total: OutcomeTally;
  byF: Record<string, OutcomeTally>;
  reason?: string;
}

export function checkStats(pairs: readonly OperationPair[]): StatsReport {
  const total: OutcomeTally = { invoked: 0, ok: 0, fail: 0, info: 0 };
  const byF: Record<string, OutcomeTally> = {};
  for (const pair of pairs) {
    const tally = (byF[pair.invoke.f] ??= { invoked: 0, ok: 0, fail: 0, info: 0 });
    const outcome = outcomeOf(pair);
    tally.invoked += 1;
    tally[outcome] += 1;
    total.invoked += 1;
    total[outcome] += 1;
  }
  if (total.ok === 0) {
    return { valid: false, total, byF, reason: "no operation succeeded: the run tested nothing" };
  }
  return { valid: true, total, byF };
}
