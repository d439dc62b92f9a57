// Availability of a run (issue 11): leader changes read from the node logs, and the longest window
// without a successful operation read from the history, each split into inside and outside the
// fault windows. Informational: always valid (speed and availability goals belong in benchmarks
// and in the README's measured runs, not in a verdict).
import type { HistoryEvent } from "../../history/event.js";
import type { CheckReport } from "./check-report.js";
import type { LeaderChange } from "./node-log-events.js";
import { outcomeOf, type OperationPair } from "../../history/operation-pairs.js";
import { faultIntervals, type FaultInterval } from "./perf.js";

export interface AvailabilityReport extends CheckReport {
  valid: true;
  /** Nodes becoming leader after the cluster's first election, while the clients ran. */
  leaderChanges: { total: number; insideFaults: number; outsideFaults: number; timesS: number[] };
  /** The longest stretch without a successful operation, seconds, and where it started. */
  longestGapS: { insideFaults: number; outsideFaults: number; insideAtS: number | null; outsideAtS: number | null };
}

const nsPerS = 1e9;

export function checkAvailability(pairs: readonly OperationPair[], events: readonly HistoryEvent[], leaderChanges: readonly LeaderChange[]): AvailabilityReport {
  const faults = faultIntervals(events);
  const endS = (events[events.length - 1]?.time ?? 0) / nsPerS;
  const okTimesS = pairs
    .filter((pair) => pair.completion !== undefined && outcomeOf(pair) === "ok")
    .map((pair) => (pair.completion?.time ?? 0) / nsPerS)
    .sort((left, right) => left - right);
  const gap = { insideFaults: 0, outsideFaults: 0, insideAtS: null as number | null, outsideAtS: null as number | null };
  // From the first success: the wait for the first election and connections is start-up, not a gap.
  let previousS = okTimesS[0] ?? 0;
  for (const timeS of [...okTimesS, endS]) {
    const lengthS = timeS - previousS;
    if (overlapsFault(faults, previousS, timeS)) {
      if (lengthS > gap.insideFaults) {
        gap.insideFaults = lengthS;
        gap.insideAtS = previousS;
      }
    } else if (lengthS > gap.outsideFaults) {
      gap.outsideFaults = lengthS;
      gap.outsideAtS = previousS;
    }
    previousS = Math.max(previousS, timeS);
  }
  // The earliest leader is the cluster's first election, not a change.
  const changes = leaderChanges
    .slice(1)
    .filter((change) => change.timeS >= 0 && change.timeS <= endS)
    .map((change) => change.timeS);
  const inside = changes.filter((timeS) => overlapsFault(faults, timeS, timeS)).length;
  return {
    valid: true,
    leaderChanges: { total: changes.length, insideFaults: inside, outsideFaults: changes.length - inside, timesS: changes.map((timeS) => round(timeS)) },
    longestGapS: {
      insideFaults: round(gap.insideFaults),
      outsideFaults: round(gap.outsideFaults),
      insideAtS: gap.insideAtS === null ? null : round(gap.insideAtS),
      outsideAtS: gap.outsideAtS === null ? null : round(gap.outsideAtS),
    },
  };
}

function overlapsFault(faults: readonly FaultInterval[], fromS: number, toS: number): boolean {
  return faults.some((fault) => fault.startS <= toS && fromS <= fault.endS);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
