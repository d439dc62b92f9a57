// The linearizability check of a run, through the checker's API with the plugin's model: the
// verdict, and for a violation a short account (key, first operation that cannot be placed, the
// model state there, the end of the longest linearizable prefix).
import type { Plugin } from "../../plugins/api.js";
import { checkOperations, readOnlyOperations, type CheckResult } from "../../checker/linearizable.js";
import { historyOperations } from "../../checker/operations.js";
import type { HistoryEvent } from "../../history/event.js";
import type { CheckReport, Validity } from "./check-report.js";

export interface LinearizableReport extends CheckReport {
  verdict: CheckResult["verdict"];
  operations: number;
  /** `fail` operations, left out of the search (they did not happen). */
  failedDropped: number;
  partitions: number;
  partitionsDone: number;
  elapsedMs: number;
  reason?: string;
  /** For a violation (or an unknown verdict, as far as the search got). */
  anomaly?: {
    key: string | null;
    firstBadOperation: string | null;
    /** Its history index (the invoke). */
    firstBadIndex: number | null;
    stateBefore: string | null;
    /** The last operations of the longest linearizable prefix, with the state after each. */
    prefixTail: { operation: string; stateAfter: string }[];
    prefixLength: number;
  };
}

const prefixTailLength = 8;

export interface LinearizableCheck {
  report: LinearizableReport;
  /** The checker's full result, for the HTML view of the history. */
  result: CheckResult;
}

export function checkLinearizable(events: readonly HistoryEvent[], plugin: Plugin, timeoutMs: number): LinearizableCheck {
  const { operations, failedCount } = historyOperations(events);
  const result = checkOperations(plugin.model, operations, { timeoutMs, readOnly: readOnlyOperations(plugin) });
  const valid: Validity = result.verdict === "ok" ? true : result.verdict === "illegal" ? false : "unknown";
  const report: LinearizableReport = {
    valid,
    verdict: result.verdict,
    operations: result.operationCount,
    failedDropped: failedCount,
    partitions: result.partitions.length,
    partitionsDone: result.partitionsDone,
    elapsedMs: Math.round(result.elapsedMs),
  };
  if (result.reason !== undefined) {
    report.reason = result.reason;
  }
  const troubled =
    result.partitions.find((partition) => partition.verdict === "illegal") ?? result.partitions.find((partition) => partition.verdict === "unknown");
  if (troubled !== undefined && result.verdict !== "ok") {
    const bad = troubled.firstBadOperation;
    report.anomaly = {
      key: troubled.key,
      firstBadOperation: bad === null ? null : plugin.model.describeOperation(bad.input, bad.outcome),
      firstBadIndex: bad === null ? null : bad.invokeIndex,
      stateBefore: troubled.stateBefore,
      prefixTail: troubled.linearization.slice(-prefixTailLength).map((step) => ({
        operation: plugin.model.describeOperation(step.operation.input, step.operation.outcome),
        stateAfter: step.stateAfter,
      })),
      prefixLength: troubled.linearization.length,
    };
  }
  return { report, result };
}
