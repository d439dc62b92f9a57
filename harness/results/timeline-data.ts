// The data behind report.html's timeline: one time axis (run seconds) carrying operations binned
// per time step (throughput by outcome, and one lane per process or per answering node), a thinned
// latency scatter, fault windows, leader changes and the first anomalous operation. Binned, so the
// page's size is bounded by the bin count and the scatter budget, not by the number of operations.
import { outcomeOf, type OperationPair } from "../../history/operation-pairs.js";
import { faultTargets } from "../../history/fault-targets.js";
import type { FaultInterval } from "../checks/perf.js";
import type { LeaderChange } from "../checks/node-log-events.js";
import type { RunSummary } from "./summary.js";
import { latencyPoints } from "./latency-points.js";
import { maxOf } from "../../lib/extremes.js";

export interface TimelineData {
  durationS: number;
  binS: number;
  /** Completed operations per bin (by completion time), by outcome. */
  ok: number[];
  fail: number[];
  info: number[];
  /** What the lanes are: one per process, or (with too many processes to show) one per node that answered. */
  laneKind: "process" | "node";
  lanes: TimelineLane[];
  /** Latency scatter, parallel arrays: invoke time (s), latency (ms), outcome 0 ok, 1 fail, 2 info. */
  pointTimeS: number[];
  pointLatencyMs: number[];
  pointKind: number[];
  faults: TimelineFault[];
  leaders: LeaderChange[];
  anomaly: TimelineAnomaly | null;
}

export interface TimelineLane {
  label: string;
  /** One character per bin: "." idle, "o" ok, "f" fail, "i" info (the worst outcome running in it). */
  bins: string;
}

export interface TimelineFault {
  kind: string;
  targets: string;
  startS: number;
  endS: number;
  /** Whether the nemesis could not inject it (its record holds an error). */
  failed: boolean;
  detail: string;
}

export interface TimelineAnomaly {
  timeS: number;
  check: string;
  text: string;
  process: number | null;
  node: string | null;
}

/** Bins across the run: enough for 1-pixel resolution on a wide screen zoomed 2x. */
const binCount = 2_000;
/** More processes than this (each `info` starts a new one) and the lanes show answering nodes. */
const processLanesMax = 40;
const nsPerS = 1e9;
const severity: Record<string, number> = { ".": 0, o: 1, f: 2, i: 3 };

export function buildTimelineData(summary: RunSummary, pairs: readonly OperationPair[], leaderChanges: readonly LeaderChange[], durationS: number): TimelineData {
  const spanS = maxOf(
    pairs.map((pair) => (pair.completion?.time ?? pair.invoke.time) / nsPerS),
    Math.max(durationS, 1e-3),
  );
  const binS = spanS / binCount;
  const binOf = (timeNs: number): number => Math.min(binCount - 1, Math.max(0, Math.floor(timeNs / nsPerS / binS)));
  const counts = { ok: new Array<number>(binCount).fill(0), fail: new Array<number>(binCount).fill(0), info: new Array<number>(binCount).fill(0) };
  const processes = new Set(pairs.map((pair) => pair.invoke.process));
  const laneKind = processes.size <= processLanesMax ? "process" : "node";
  const laneOf = (pair: OperationPair): string =>
    laneKind === "process" ? String(pair.invoke.process) : (pair.completion?.node ?? pair.invoke.node ?? "?");
  const laneBins = new Map<string, string[]>();
  const laneNodes = new Map<string, Set<string>>();
  for (const pair of pairs) {
    const outcome = outcomeOf(pair);
    if (pair.completion !== undefined) {
      const bin = binOf(pair.completion.time);
      counts[outcome][bin] = (counts[outcome][bin] ?? 0) + 1;
    }
    const lane = laneOf(pair);
    const bins = laneBins.get(lane) ?? new Array<string>(binCount).fill(".");
    laneBins.set(lane, bins);
    const node = pair.completion?.node ?? pair.invoke.node;
    if (node !== undefined) {
      laneNodes.set(lane, (laneNodes.get(lane) ?? new Set<string>()).add(node));
    }
    const mark = outcome === "ok" ? "o" : outcome === "fail" ? "f" : "i";
    // An open call runs to the end of the history: mark only its invoke bin, as a tick.
    const last = pair.completion === undefined ? binOf(pair.invoke.time) : binOf(pair.completion.time);
    for (let bin = binOf(pair.invoke.time); bin <= last; bin += 1) {
      if ((severity[mark] ?? 0) > (severity[bins[bin] ?? "."] ?? 0)) {
        bins[bin] = mark;
      }
    }
  }
  const lanes = [...laneBins.entries()]
    .sort(([left], [right]) => compareLabels(left, right))
    .map(([lane, bins]) => {
      const nodes = [...(laneNodes.get(lane) ?? [])].sort(compareLabels);
      const label = laneKind === "process" ? `p${lane}${nodes.length === 0 ? "" : ` n${nodes.join(",")}`}` : `node ${lane}`;
      return { label, bins: bins.join("") };
    });
  const points = latencyPoints(pairs);
  return {
    durationS: round(spanS),
    binS,
    ...counts,
    laneKind,
    lanes,
    pointTimeS: points.map((point) => round(point.timeS)),
    pointLatencyMs: points.map((point) => round(point.latencyMs)),
    pointKind: points.map((point) => (point.type === "ok" ? 0 : point.type === "fail" ? 1 : 2)),
    faults: summary.faults.map(timelineFault),
    leaders: leaderChanges.filter((change) => change.timeS <= spanS).map((change) => ({ ...change, timeS: round(change.timeS) })),
    anomaly: anomalyOf(summary, pairs),
  };
}

function timelineFault(fault: FaultInterval): TimelineFault {
  const failed = typeof fault.value === "object" && fault.value !== null && "error" in fault.value;
  return { kind: fault.f, targets: faultTargets(fault.value), startS: fault.startS, endS: fault.endS, failed, detail: JSON.stringify(fault.value) };
}

/** The first anomalous operation: the explanation's time, and the operation invoked then. */
function anomalyOf(summary: RunSummary, pairs: readonly OperationPair[]): TimelineAnomaly | null {
  const timeS = summary.first_anomaly_s;
  if (timeS === undefined || timeS === null) {
    return null;
  }
  // first_anomaly_s is rounded to the millisecond: take the operation invoked nearest to it.
  let nearest: OperationPair | undefined;
  for (const pair of pairs) {
    if (nearest === undefined || Math.abs(pair.invoke.time / nsPerS - timeS) < Math.abs(nearest.invoke.time / nsPerS - timeS)) {
      nearest = pair;
    }
  }
  return {
    timeS,
    check: summary.caught_by ?? "",
    text: summary.explanation ?? "",
    process: nearest?.invoke.process ?? null,
    node: nearest?.completion?.node ?? nearest?.invoke.node ?? null,
  };
}

/** Numeric labels in numeric order ("2" before "10"), others after, alphabetically. */
function compareLabels(left: string, right: string): number {
  const a = Number(left);
  const b = Number(right);
  if (Number.isFinite(a) && Number.isFinite(b)) {
    return a - b;
  }
  return Number.isFinite(a) ? -1 : Number.isFinite(b) ? 1 : left.localeCompare(right);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
