// Latency percentiles per operation, throughput per second and fault intervals: the figures of a
// run, and the data behind the report's charts. Informational: always valid.
import type { HistoryEvent, NemesisEvent } from "../../history/event.js";
import type { CheckReport } from "./check-report.js";
import { outcomeOf, type OperationPair } from "../../history/operation-pairs.js";

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface ThroughputSecond {
  /** Seconds since the run started (bucket start). */
  second: number;
  ok: number;
  fail: number;
  info: number;
}

export interface FaultInterval {
  f: string;
  startS: number;
  /** When the fault was healed; the run's end when the history never says. */
  endS: number;
  value: unknown;
}

export interface PerfReport extends CheckReport {
  valid: true;
  durationS: number;
  /** Completed operations per second over the whole run. */
  throughputOpsPerS: number;
  latency: Record<string, LatencySummary>;
  throughput: ThroughputSecond[];
  faults: FaultInterval[];
}

const nsPerMs = 1e6;
const nsPerS = 1e9;

export function checkPerf(pairs: readonly OperationPair[], events: readonly HistoryEvent[]): PerfReport {
  const latenciesByF = new Map<string, number[]>();
  const all: number[] = [];
  const buckets: ThroughputSecond[] = [];
  const endNs = events[events.length - 1]?.time ?? 0;
  for (const pair of pairs) {
    const completion = pair.completion;
    if (completion === undefined) {
      continue;
    }
    const latencyMs = (completion.time - pair.invoke.time) / nsPerMs;
    const list = latenciesByF.get(pair.invoke.f) ?? [];
    list.push(latencyMs);
    latenciesByF.set(pair.invoke.f, list);
    all.push(latencyMs);
    const second = Math.floor(completion.time / nsPerS);
    for (let missing = buckets.length; missing <= second; missing += 1) {
      buckets.push({ second: missing, ok: 0, fail: 0, info: 0 });
    }
    const bucket = buckets[second];
    if (bucket !== undefined) {
      bucket[outcomeOf(pair)] += 1;
    }
  }
  const latency: Record<string, LatencySummary> = {};
  for (const [f, list] of [...latenciesByF].sort(([left], [right]) => left.localeCompare(right))) {
    latency[f] = summarise(list);
  }
  if (all.length > 0) {
    latency["all"] = summarise(all);
  }
  const durationS = endNs / nsPerS;
  return {
    valid: true,
    durationS: round(durationS, 3),
    throughputOpsPerS: durationS > 0 ? round(all.length / durationS, 1) : 0,
    latency,
    throughput: buckets,
    faults: faultIntervals(events),
  };
}

/**
 * Fault intervals from nemesis events (harness/nemesis/combined.ts): a fault starts at its
 * `invoke` and lasts until the next completed heal (`info` with f "heal"), or the run's end.
 */
export function faultIntervals(events: readonly HistoryEvent[]): FaultInterval[] {
  const intervals: FaultInterval[] = [];
  const open: FaultInterval[] = [];
  const endS = (events[events.length - 1]?.time ?? 0) / nsPerS;
  for (const event of events) {
    if (event.process !== "nemesis") {
      continue;
    }
    const nemesisEvent: NemesisEvent = event;
    const timeS = nemesisEvent.time / nsPerS;
    if (nemesisEvent.f === "heal") {
      if (nemesisEvent.type === "info") {
        for (const interval of open.splice(0)) {
          interval.endS = round(timeS, 3);
        }
      }
      continue;
    }
    if (nemesisEvent.type === "invoke") {
      const interval: FaultInterval = { f: nemesisEvent.f, startS: round(timeS, 3), endS: round(endS, 3), value: null };
      intervals.push(interval);
      open.push(interval);
    } else {
      // The completion says what was done (which nodes, which grudge).
      const interval = open.findLast((candidate) => candidate.f === nemesisEvent.f);
      if (interval !== undefined) {
        interval.value = nemesisEvent.value;
      }
    }
  }
  return intervals;
}

function summarise(latencies: number[]): LatencySummary {
  const sorted = Float64Array.from(latencies).sort();
  const at = (quantile: number): number => round(sorted[Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))] ?? 0, 3);
  return { count: sorted.length, p50Ms: at(0.5), p95Ms: at(0.95), p99Ms: at(0.99), maxMs: round(sorted[sorted.length - 1] ?? 0, 3) };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
