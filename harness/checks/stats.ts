// Outcome counts per operation. Jepsen's stats rule: an operation kind that never succeeded was
// never tested (every put failing, or 9,000 clients all timing out), so the run is not valid.
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
  const neverOk = Object.entries(byF).filter(([, tally]) => tally.ok === 0);
  if (neverOk.length > 0) {
    const described = neverOk.map(([f, tally]) => `${f} (${tally.invoked} invoked: ${tally.fail} fail, ${tally.info} info)`);
    return { valid: false, total, byF, reason: `no ${neverOk.length === 1 ? "operation" : "operations"} succeeded for ${described.join(", ")}` };
  }
  return { valid: true, total, byF };
}
