// summary.json: the machine-readable account of a run. Field names are stable (scripts and CI
// read them); add fields, never rename them.
import type { CheckReport, Validity } from "../checks/check-report.js";
import type { FaultInterval } from "../checks/perf.js";
import type { OutcomeTally, StatsReport } from "../checks/stats.js";
import type { FinalPhaseReport } from "../client/client-pool.js";
import type { RuntimeName } from "../runtime/runtime.js";

export interface RunSummary {
  name: string;
  seed: number;
  runtime: RuntimeName;
  plugin: string;
  nodes: number;
  /** ISO time the run started. */
  started: string;
  /** ISO time of history time 0 (the cluster up): maps node-log times onto the history's. */
  history_started?: string;
  /** Wall time from start to the end of the final phase, in seconds. */
  duration_s: number;
  valid: Validity;
  /** Every check's report by name: linearizable, stats, perf, and counter-bounds, queue, node-logs where they apply. */
  checks: Record<string, CheckReport>;
  /** Outcome counts, in total and per operation. */
  ops: { total: OutcomeTally; byF: Record<string, OutcomeTally> };
  /** Faults injected, with when they started and were healed (seconds since the start). */
  faults: FaultInterval[];
  /** Where the workload came from (a file, or "<default workload>"). */
  workload_file: string;
  unsafe: string[];
  final: FinalPhaseReport | null;
  /** The exit code `raftlab run` returns for this run. */
  exit_code: number;
  /** For an invalid or unknown verdict: one paragraph saying what went wrong, when, where, under which faults. */
  explanation?: string | null;
  /** The check that explanation is about (the first invalid one, else the first unknown one). */
  caught_by?: string | null;
  /** Run time (seconds since the history's start) at which the first anomalous operation was invoked. */
  first_anomaly_s?: number | null;
  /** Copies of the nodes' data directories kept in the results folder ("nodes/<id>/data"), per keep_data; empty when none. */
  node_data?: string[];
}

/** 0 valid, 1 invalid, 2 unknown: the exit code of a run that completed. */
export function exitCodeFor(valid: Validity): number {
  return valid === true ? 0 : valid === false ? 1 : 2;
}

export function opsOf(checks: Record<string, CheckReport>): RunSummary["ops"] {
  const stats = checks["stats"] as Partial<StatsReport> | undefined;
  return { total: stats?.total ?? { invoked: 0, ok: 0, fail: 0, info: 0 }, byF: stats?.byF ?? {} };
}

/** One line per check for the terminal: "linearizable  true   1234 ops, 5 partitions". */
export function describeChecks(checks: Record<string, CheckReport>): string[] {
  return Object.entries(checks).map(([name, report]) => `${name.padEnd(15)} ${String(report.valid).padEnd(8)} ${checkHeadline(name, report)}`);
}

/** A short human account of one check's report. */
export function checkHeadline(name: string, report: CheckReport): string {
  const details = report as CheckReport & Record<string, unknown>;
  if (report.error !== undefined) {
    return `check crashed: ${report.error.split("\n")[0] ?? ""}`;
  }
  const reason = typeof details["reason"] === "string" ? details["reason"] : undefined;
  switch (name) {
    case "linearizable": {
      const anomaly = details["anomaly"] as { key: string | null; firstBadOperation: string | null } | undefined;
      const base = `${String(details["operations"])} ops, ${String(details["partitions"])} partition(s), ${String(details["elapsedMs"])} ms`;
      if (report.valid === false && anomaly !== undefined) {
        return `${base}; key ${JSON.stringify(anomaly.key)}: cannot linearize ${anomaly.firstBadOperation ?? "?"}`;
      }
      return reason === undefined ? base : `${base}; ${reason}`;
    }
    case "stats": {
      const total = details["total"] as OutcomeTally | undefined;
      const base = total === undefined ? "" : `${total.ok} ok, ${total.fail} fail, ${total.info} info of ${total.invoked}`;
      return reason === undefined ? base : `${base}; ${reason}`;
    }
    case "perf": {
      const latency = (details["latency"] as Record<string, { p50Ms: number; p99Ms: number }> | undefined)?.["all"];
      return latency === undefined ? "no completed operations" : `${String(details["throughputOpsPerS"])} ops/s, p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms`;
    }
    case "availability": {
      const changes = details["leaderChanges"] as { total: number; insideFaults: number; outsideFaults: number } | undefined;
      const gap = details["longestGapS"] as { insideFaults: number; outsideFaults: number } | undefined;
      return changes === undefined || gap === undefined
        ? "no figures"
        : `${changes.total} leader change(s) (${changes.outsideFaults} outside faults); longest gap without an ok ${Math.round(gap.outsideFaults * 1000)} ms outside faults, ${Math.round(gap.insideFaults * 1000)} ms inside`;
    }
    case "nemesis": {
      const byFault = details["byFault"] as Record<string, { attempted: number; failed: number }> | undefined;
      const tallies = Object.entries(byFault ?? {})
        .filter(([, tally]) => tally.attempted > 0)
        .map(([fault, tally]) => `${fault} ${tally.attempted - tally.failed}/${tally.attempted}`);
      const base = tallies.length === 0 ? "no fault attempted" : `injected ${tallies.join(", ")}`;
      return reason === undefined ? base : `${base}; ${reason}`;
    }
    case "counter-bounds":
      return `${String(details["reads"])} reads, ${String(details["violationCount"])} out of bounds`;
    case "queue": {
      const enqueued = details["enqueued"] as { ok: number; info: number } | undefined;
      const possiblyLost = (details["possiblyLost"] as unknown[] | undefined)?.length ?? 0;
      const base =
        enqueued === undefined
          ? ""
          : `${enqueued.ok} enqueued ok (${enqueued.info} unknown), ${String(details["dequeuedValues"])} dequeued, drained: ${String(details["drained"])}` +
            (possiblyLost > 0 ? `, ${possiblyLost} possibly taken by unknown dequeues` : "");
      return reason === undefined ? base : `${base}; ${reason}`;
    }
    case "node-logs": {
      const counts = details["counts"] as { error: number; fatal: number; crash: number } | undefined;
      const first = (details["findings"] as { file: string; line: number; message: string }[] | undefined)?.[0];
      const base = counts === undefined ? "" : `${String(details["files"])} file(s): ${counts.error} error, ${counts.fatal} fatal, ${counts.crash} crash line(s)`;
      return first === undefined ? base : `${base}; first: ${first.file}:${first.line}: ${shortened(first.message)}`;
    }
    default:
      return reason ?? "";
  }
}

/** Cut short for one terminal line. */
function shortened(message: string): string {
  return message.length > 160 ? `${message.slice(0, 157)}...` : message;
}
