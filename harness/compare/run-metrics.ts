// The figures `raftlab compare` puts side by side for one run, from its history, summary.json and
// node logs: availability outside and inside each fault kind, recovery after each heal (for the
// cluster and for every worker), leader changes, outcome rates, checker time, snapshot sizes.
// Field names are snake_case and stable: comparison.json carries them (README "Comparing plugins").
import type { ClientEvent, HistoryEvent } from "../../history/event.js";
import type { LatencySummary, PerfReport } from "../checks/perf.js";
import { faultIntervals, type FaultInterval } from "../checks/perf.js";
import { readNodeLogEvents } from "../checks/node-log-events.js";
import type { RunSummary } from "../results/summary.js";

export interface Recovery {
  fault: string;
  /** When the heal completed, seconds since history time 0. */
  heal_s: number;
  /** Heal to the first ok of any worker; null when none came before the run ended. */
  cluster_ms: number | null;
  /** Heal to each worker's first ok (index = worker), null for a worker that got none. */
  workers_ms: (number | null)[];
  /** Heal until every worker had an ok (the slowest worker); null when one never did. */
  all_workers_ms: number | null;
}

export interface RunMetrics {
  /** Completed operations (ok, fail or info) per second of history. */
  throughput_ops_per_s: number;
  /** ok operations per second of history. */
  ok_per_s: number;
  /** Per operation and "all": count, p50Ms, p95Ms, p99Ms, maxMs (from the perf check). */
  latency_ms: Record<string, LatencySummary>;
  /** Share of invoked operations that completed ok (null where none were invoked), by when they were invoked. */
  availability: { overall: number | null; outside_faults: number | null; by_fault: Record<string, number | null> };
  recovery: Recovery[];
  /** Median over heals of cluster_ms / all_workers_ms (null when no heal had one). */
  recovery_cluster_ms_median: number | null;
  recovery_all_workers_ms_median: number | null;
  /** Nodes becoming leader after the first ok (from the node logs), while a fault was in force and outside; null when the run did not record history_started. */
  leader_changes: { total: number; inside_faults: number; outside_faults: number; times_s: number[] } | null;
  info_rate: number | null;
  fail_rate: number | null;
  checker: { elapsed_ms: number | null; unknown: boolean };
  snapshots: { count: number; max_bytes: number | null };
  /** The largest resident memory any node reported (each logs it every 2 s); null when none did. */
  node_memory_bytes: number | null;
}

const nsPerS = 1e9;
const nsPerMs = 1e6;

/** Computes the metrics; `concurrency` is the run's worker count (clients.concurrency). */
export async function runMetrics(options: { summary: RunSummary; events: readonly HistoryEvent[]; concurrency: number; logDirectory: string }): Promise<RunMetrics> {
  const { summary, events, concurrency } = options;
  const perf = summary.checks["perf"] as Partial<PerfReport> | undefined;
  const durationS = perf?.durationS ?? 0;
  // Faults the nemesis could not inject (no leader, say) hurt nobody: not windows.
  const windows = faultIntervals(events).filter((fault) => !isFailedInjection(fault));
  const clientEvents = events.filter((event): event is ClientEvent => event.process !== "nemesis");
  const workerOf = workerMapping(clientEvents, concurrency);

  const tallies = new Map<string, { invoked: number; ok: number }>();
  const tally = (key: string): { invoked: number; ok: number } => {
    let found = tallies.get(key);
    if (found === undefined) {
      found = { invoked: 0, ok: 0 };
      tallies.set(key, found);
    }
    return found;
  };
  const invokes = new Map<number, ClientEvent>();
  const oks: { timeNs: number; worker: number }[] = [];
  for (const event of clientEvents) {
    if (event.type === "invoke") {
      invokes.set(event.process, event);
      continue;
    }
    const invoke = invokes.get(event.process);
    invokes.delete(event.process);
    if (invoke === undefined) {
      continue;
    }
    const window = windows.find((fault) => fault.startS * nsPerS <= invoke.time && invoke.time < fault.endS * nsPerS);
    for (const key of ["overall", window === undefined ? "outside" : `fault:${window.f}`]) {
      const counts = tally(key);
      counts.invoked += 1;
      counts.ok += event.type === "ok" ? 1 : 0;
    }
    if (event.type === "ok") {
      oks.push({ timeNs: event.time, worker: workerOf(event.process) });
    }
  }
  for (const invoke of invokes.values()) {
    // Still open at the end: invoked, never ok.
    const window = windows.find((fault) => fault.startS * nsPerS <= invoke.time && invoke.time < fault.endS * nsPerS);
    tally("overall").invoked += 1;
    tally(window === undefined ? "outside" : `fault:${window.f}`).invoked += 1;
  }
  const share = (key: string): number | null => {
    const counts = tallies.get(key);
    return counts === undefined || counts.invoked === 0 ? null : round(counts.ok / counts.invoked, 4);
  };
  const byFault: Record<string, number | null> = {};
  for (const fault of [...new Set(windows.map((window) => window.f))].sort()) {
    byFault[fault] = share(`fault:${fault}`);
  }

  const endS = (events[events.length - 1]?.time ?? 0) / nsPerS;
  const recovery = windows.filter((window) => window.endS < endS).map((window) => recoveryAfter(window, oks, concurrency));
  const total = summary.ops.total;
  const linearizable = summary.checks["linearizable"] as ({ elapsedMs?: number } & { valid: unknown }) | undefined;
  const historyStartedMs = summary.history_started === undefined ? undefined : Date.parse(summary.history_started);
  const logEvents = await readNodeLogEvents(options.logDirectory, historyStartedMs ?? 0);
  const inside = (timeS: number): boolean => windows.some((window) => window.startS <= timeS && timeS < window.endS);
  // The first election (before the first ok) is start-up, not a change: it falls before or after
  // history time 0 depending on timing, and would add noise to "outside faults".
  const servingS = (oks[0]?.timeNs ?? 0) / nsPerS;
  const changes = logEvents.leaderChanges.filter((change) => change.timeS >= servingS);
  return {
    throughput_ops_per_s: perf?.throughputOpsPerS ?? 0,
    ok_per_s: durationS > 0 ? round(total.ok / durationS, 1) : 0,
    latency_ms: perf?.latency ?? {},
    availability: { overall: share("overall"), outside_faults: share("outside"), by_fault: byFault },
    recovery,
    recovery_cluster_ms_median: median(recovery.flatMap((entry) => (entry.cluster_ms === null ? [] : [entry.cluster_ms]))),
    recovery_all_workers_ms_median: median(recovery.flatMap((entry) => (entry.all_workers_ms === null ? [] : [entry.all_workers_ms]))),
    leader_changes:
      historyStartedMs === undefined
        ? null
        : {
            total: changes.length,
            inside_faults: changes.filter((change) => inside(change.timeS)).length,
            outside_faults: changes.filter((change) => !inside(change.timeS)).length,
            times_s: changes.map((change) => round(change.timeS, 3)),
          },
    info_rate: total.invoked === 0 ? null : round(total.info / total.invoked, 4),
    fail_rate: total.invoked === 0 ? null : round(total.fail / total.invoked, 4),
    checker: { elapsed_ms: typeof linearizable?.elapsedMs === "number" ? linearizable.elapsedMs : null, unknown: linearizable?.valid === "unknown" },
    snapshots: { count: logEvents.snapshotBytes.length, max_bytes: logEvents.snapshotBytes.length === 0 ? null : Math.max(...logEvents.snapshotBytes) },
    node_memory_bytes: logEvents.rssBytesMax,
  };
}

function isFailedInjection(fault: FaultInterval): boolean {
  return typeof fault.value === "object" && fault.value !== null && "error" in fault.value;
}

/**
 * Which worker ran each process. Workers start as processes 0..concurrency-1; after an `info` a
 * worker takes the next id from one counter (harness/client/worker.ts), so the k-th info event of
 * the history hands process concurrency + k to the worker whose operation it ended.
 */
export function workerMapping(events: readonly ClientEvent[], concurrency: number): (process: number) => number {
  const workers = new Map<number, number>();
  let infos = 0;
  const workerOf = (process: number): number => (process < concurrency ? process : (workers.get(process) ?? process));
  for (const event of events) {
    if (event.type === "info") {
      workers.set(concurrency + infos, workerOf(event.process));
      infos += 1;
    }
  }
  return workerOf;
}

function recoveryAfter(window: FaultInterval, oks: readonly { timeNs: number; worker: number }[], concurrency: number): Recovery {
  const healNs = window.endS * nsPerS;
  const workersMs: (number | null)[] = Array.from({ length: concurrency }, () => null);
  let clusterMs: number | null = null;
  for (const ok of oks) {
    if (ok.timeNs < healNs) {
      continue;
    }
    const afterMs = round((ok.timeNs - healNs) / nsPerMs, 1);
    clusterMs ??= afterMs;
    if (ok.worker < concurrency && workersMs[ok.worker] === null) {
      workersMs[ok.worker] = afterMs;
    }
  }
  const allWorkersMs = workersMs.some((value) => value === null) ? null : Math.max(...(workersMs as number[]));
  return { fault: window.f, heal_s: window.endS, cluster_ms: clusterMs, workers_ms: workersMs, all_workers_ms: allWorkersMs };
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) {
    return null;
  }
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
