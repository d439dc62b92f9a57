// Did the faults happen? A run whose faults all failed to inject (a partition on a cluster that
// could not be cut, a leader fault with never a leader) tested nothing the workload asked for: its
// other checks may say valid, but the verdict is "unknown", with the reason. Faults that failed
// only now and then are listed; that is the nature of leader-targeted faults during elections.
// An injection cut off by the end of the main phase (its outcome says cancelled) is no attempt:
// the cluster did not refuse it, the run simply ended.
import type { Json } from "../../plugins/api.js";
import type { HistoryEvent } from "../../history/event.js";
import type { CheckReport } from "./check-report.js";

export interface FaultTally {
  attempted: number;
  failed: number;
  /** The first failure's message, for the report. */
  firstError?: string;
  /** Injections cut off by the end of the main phase: not counted as attempts. */
  cancelled?: number;
}

export interface NemesisReport extends CheckReport {
  /** Injection attempts per fault name (heals not counted). */
  byFault: Record<string, FaultTally>;
  reason?: string;
}

/**
 * `configuredFaults` is how many faults the workload lists: with some configured and none
 * attempted (the run ended before the first interval passed), the faults were never tested.
 */
export function checkNemesis(events: readonly HistoryEvent[], configuredFaults: number): NemesisReport {
  const byFault: Record<string, FaultTally> = {};
  // One fault at a time: an invoke's outcome is the next info event of the nemesis.
  let pending: string | undefined;
  for (const event of events) {
    if (event.process !== "nemesis") {
      continue;
    }
    if (event.type === "invoke") {
      pending = event.f === "heal" ? undefined : event.f;
      continue;
    }
    if (pending === undefined) {
      continue;
    }
    const tally = (byFault[pending] ??= { attempted: 0, failed: 0 });
    if (isCancelled(event.value)) {
      tally.cancelled = (tally.cancelled ?? 0) + 1;
      pending = undefined;
      continue;
    }
    tally.attempted += 1;
    const error = errorOf(event.value);
    if (error !== undefined) {
      tally.failed += 1;
      tally.firstError ??= error;
    }
    pending = undefined;
  }
  const attempts = Object.values(byFault).reduce((sum, tally) => sum + tally.attempted, 0);
  const cutOff = Object.entries(byFault).filter(([, tally]) => (tally.cancelled ?? 0) > 0);
  if (configuredFaults > 0 && attempts === 0) {
    const why = cutOff.length > 0 ? "the only injection was cut off by the end of the run" : "the run ended before the first nemesis interval passed";
    return { valid: "unknown", byFault, reason: `no fault was injected: ${why}` };
  }
  const neverInjected = Object.entries(byFault).filter(([, tally]) => tally.attempted > 0 && tally.failed === tally.attempted);
  if (neverInjected.length > 0) {
    const described = neverInjected.map(([name, tally]) => `${name} (${tally.attempted}×: ${tally.firstError ?? "failed"})`);
    return { valid: "unknown", byFault, reason: `never injected: ${described.join("; ")}` };
  }
  const sometimesFailed = Object.entries(byFault).filter(([, tally]) => tally.failed > 0);
  const notes = [
    ...(sometimesFailed.length === 0
      ? []
      : [`failed now and then: ${sometimesFailed.map(([name, tally]) => `${name} ${tally.failed} of ${tally.attempted}`).join(", ")}`]),
    ...(cutOff.length === 0 ? [] : [`cut off by the end of the run: ${cutOff.map(([name]) => name).join(", ")}`]),
  ];
  return notes.length === 0 ? { valid: true, byFault } : { valid: true, byFault, reason: notes.join("; ") };
}

function isCancelled(value: Json): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && value["cancelled"] === true;
}

/** The error message of a nemesis outcome ({ error, message }), or undefined for a fault in place. */
function errorOf(value: Json): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value) || typeof value["error"] !== "string") {
    return undefined;
  }
  const message = value["message"];
  return typeof message === "string" ? message : value["error"];
}
