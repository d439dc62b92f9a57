// Runs every check that applies to a run and merges the verdicts: false if any check is false,
// else "unknown" if any is unknown, else true. A crashing check gives "unknown", never a lost run.
import type { Plugin } from "../../plugins/api.js";
import type { CheckResult } from "../../checker/linearizable.js";
import type { HistoryEvent } from "../../history/event.js";
import { checkSafely, mergeValidity, type CheckReport, type Validity } from "./check-report.js";
import { checkAppends } from "./appends.js";
import { checkCounterBounds } from "./counter-bounds.js";
import { checkLinearizable } from "./linearizability-check.js";
import { checkNemesis } from "./nemesis.js";
import { checkNodeLogs } from "./node-logs.js";
import { checkAvailability } from "./availability.js";
import { readNodeLogEvents } from "./node-log-events.js";
import { pairOperations, type OperationPair } from "../../history/operation-pairs.js";
import { checkPerf } from "./perf.js";
import { checkQueue } from "./queue.js";
import { checkStats } from "./stats.js";
import type { ReplicasReport } from "./replicas.js";

export interface CheckContext {
  events: readonly HistoryEvent[];
  plugin: Plugin;
  /** Where the nodes' logs are; the node-logs check is skipped without it. */
  logDirectory?: string;
  checkerTimeoutMs: number;
  /** How many faults the workload lists; with it, the nemesis check says whether they were injected. */
  configuredFaults?: number;
  /** History time 0 (epoch ms): maps node-log times onto the history's, for the availability check. */
  historyStartedMs?: number;
  /** The end-of-run replicas report (collected while the cluster ran: replicas.ts); absent for `raftlab check`. */
  replicas?: ReplicasReport;
}

export interface ComposedChecks {
  valid: Validity;
  /** Reports by check name: linearizable, stats, perf, and nemesis / counter-bounds / appends / queue / replicas / node-logs where they apply. */
  checks: Record<string, CheckReport>;
  /** The linearizability checker's full result (for the HTML history view), when it ran. */
  linearizability: CheckResult | undefined;
}

export async function runChecks(context: CheckContext): Promise<ComposedChecks> {
  const checks: Record<string, CheckReport> = {};
  let linearizability: CheckResult | undefined;
  // Paired once, inside the checks that need it, so a malformed history makes them unknown, not the run crash.
  let paired: OperationPair[] | undefined;
  const pairs = (): OperationPair[] => (paired ??= pairOperations(context.events));
  checks["linearizable"] = await checkSafely(() => {
    const { report, result } = checkLinearizable(context.events, context.plugin, context.checkerTimeoutMs);
    linearizability = result;
    return report;
  });
  checks["stats"] = await checkSafely(() => checkStats(pairs()));
  checks["perf"] = await checkSafely(() => checkPerf(pairs(), context.events));
  const configuredFaults = context.configuredFaults;
  if (configuredFaults !== undefined && configuredFaults > 0) {
    checks["nemesis"] = await checkSafely(() => checkNemesis(context.events, configuredFaults));
  }
  const operations = context.plugin.operations;
  if (context.plugin.name === "counter" && operations["add"] !== undefined && operations["read"] !== undefined) {
    checks["counter-bounds"] = await checkSafely(() => checkCounterBounds(pairs(), context.events));
  }
  const hasAppends = context.events.some((event) => event.process !== "nemesis" && event.type === "invoke" && event.f === "append");
  if (context.plugin.name === "kv" && operations["get"] !== undefined && hasAppends) {
    checks["appends"] = await checkSafely(() => checkAppends(pairs()));
  }
  if (operations["enqueue"] !== undefined && operations["dequeue"] !== undefined) {
    checks["queue"] = await checkSafely(() => checkQueue(pairs()));
  }
  if (context.replicas !== undefined) {
    checks["replicas"] = context.replicas;
  }
  const logDirectory = context.logDirectory;
  if (logDirectory !== undefined) {
    checks["node-logs"] = await checkSafely(async () => checkNodeLogs(logDirectory));
    const historyStartedMs = context.historyStartedMs;
    if (historyStartedMs !== undefined) {
      checks["availability"] = await checkSafely(async () =>
        checkAvailability(pairs(), context.events, (await readNodeLogEvents(logDirectory, historyStartedMs)).leaderChanges),
      );
    }
  }
  return { valid: mergeValidity(Object.values(checks).map((report) => report.valid)), checks, linearizability };
}
