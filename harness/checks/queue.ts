// Checks a queue history as a "total queue" (Jepsen's checker/total-queue), cheaply and with
// readable findings, beside the linearizability check:
//   duplicated: a value dequeued more than once;
//   unexpected: a value dequeued that no enqueue ever carried, or whose enqueue surely failed;
//   lost: a value whose enqueue was ok but that no ok dequeue returned, although the final phase
//         drained the queue (a dequeue answered "empty" after every ok enqueue had completed).
// A dequeue that ended `info` may have removed a value nobody saw, so lost values are only a
// violation when there are more of them than such dequeues; otherwise they are reported as
// possibly lost (the linearizability check decides those).
import type { Json } from "../../plugins/api.js";
import type { CheckReport } from "./check-report.js";
import { outcomeOf, type OperationPair } from "../../history/operation-pairs.js";

export interface QueueReport extends CheckReport {
  enqueued: { ok: number; info: number; fail: number };
  dequeuedValues: number;
  /** Whether the final drain was seen: an ok empty dequeue invoked after every ok enqueue completed. */
  drained: boolean;
  duplicated: Json[];
  unexpected: Json[];
  lost: Json[];
  /** Lost values that unknown-outcome dequeues could explain. */
  possiblyLost: Json[];
  reason?: string;
}

const valuesShownMax = 50;

export function checkQueue(pairs: readonly OperationPair[], names = { enqueue: "enqueue", dequeue: "dequeue" }): QueueReport {
  const enqueueOutcome = new Map<string, "ok" | "fail" | "info">();
  const enqueued = { ok: 0, info: 0, fail: 0 };
  const dequeueCounts = new Map<string, number>();
  let indeterminateDequeues = 0;
  let lastOkEnqueueCompletion = -1;
  let drainInvoke = -1;
  for (const pair of pairs) {
    const outcome = outcomeOf(pair);
    if (pair.invoke.f === names.enqueue) {
      enqueueOutcome.set(JSON.stringify(pair.invoke.value), outcome);
      enqueued[outcome] += 1;
      if (outcome === "ok" && pair.completion !== undefined) {
        lastOkEnqueueCompletion = Math.max(lastOkEnqueueCompletion, pair.completion.index);
      }
    } else if (pair.invoke.f === names.dequeue) {
      if (outcome === "info") {
        indeterminateDequeues += 1;
      } else if (outcome === "ok" && pair.completion !== undefined) {
        const value = pair.completion.value;
        if (value === null) {
          drainInvoke = Math.max(drainInvoke, pair.invoke.index);
        } else {
          const key = JSON.stringify(value);
          dequeueCounts.set(key, (dequeueCounts.get(key) ?? 0) + 1);
        }
      }
    }
  }
  const duplicated: string[] = [];
  const unexpected: string[] = [];
  for (const [value, count] of dequeueCounts) {
    if (count > 1) {
      duplicated.push(value);
    }
    const outcome = enqueueOutcome.get(value);
    if (outcome === undefined || outcome === "fail") {
      unexpected.push(value);
    }
  }
  const drained = drainInvoke > lastOkEnqueueCompletion;
  const missing = [...enqueueOutcome].filter(([value, outcome]) => outcome === "ok" && !dequeueCounts.has(value)).map(([value]) => value);
  const definitelyLost = drained && missing.length > indeterminateDequeues;
  const lost = definitelyLost ? missing : [];
  const possiblyLost = definitelyLost ? [] : missing;
  const problems: string[] = [];
  if (duplicated.length > 0) {
    problems.push(`${duplicated.length} value(s) dequeued more than once`);
  }
  if (unexpected.length > 0) {
    problems.push(`${unexpected.length} dequeued value(s) never enqueued, or whose enqueue failed`);
  }
  if (lost.length > 0) {
    problems.push(`${lost.length} acknowledged value(s) lost: the queue was drained and only ${indeterminateDequeues} dequeue(s) had an unknown outcome`);
  }
  // Without the drain, values never dequeued may still be in the queue: undecidable here.
  const valid = problems.length > 0 ? false : !drained && missing.length > 0 ? "unknown" : true;
  const report: QueueReport = {
    valid,
    enqueued,
    dequeuedValues: dequeueCounts.size,
    drained,
    duplicated: shown(duplicated),
    unexpected: shown(unexpected),
    lost: shown(lost),
    possiblyLost: shown(possiblyLost),
  };
  if (problems.length > 0) {
    report.reason = problems.join("; ");
  } else if (valid === "unknown") {
    report.reason = `the final drain was not seen, so ${missing.length} acknowledged value(s) never dequeued may still be queued`;
  }
  return report;
}

function shown(values: string[]): Json[] {
  return values.slice(0, valuesShownMax).map((value) => JSON.parse(value) as Json);
}
