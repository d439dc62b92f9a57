// One paragraph a person understands without the viewer: what went wrong, when (run time), which
// process and node, and which faults were in force. Written into summary.json (`explanation`),
// the first screen of report.html and `raftlab check`'s output. For an unknown verdict it says what
// ran out and how to raise it.
import type { CheckResult, PartitionResult } from "../../checker/linearizable.js";
import type { HistoryOperation } from "../../checker/operations.js";
import type { ClientEvent, HistoryEvent } from "../../history/event.js";
import type { Plugin } from "../../plugins/api.js";
import type { AppendsReport } from "./appends.js";
import type { CheckReport } from "./check-report.js";
import type { CounterBoundsReport } from "./counter-bounds.js";
import type { NodeLogsReport } from "./node-logs.js";
import { faultIntervals, type FaultInterval } from "./perf.js";
import type { QueueReport } from "./queue.js";
import type { ReplicasReport } from "./replicas.js";

export interface VerdictExplanation {
  /** The check whose verdict is explained (the first invalid one, else the first unknown one). */
  check: string;
  text: string;
  /** Run time (seconds) of the first anomalous operation's invocation, when one is known. */
  firstAnomalyS?: number;
}

export interface ExplainInput {
  checks: Record<string, CheckReport>;
  linearizability: CheckResult | undefined;
  events: readonly HistoryEvent[];
  plugin: Pick<Plugin, "model" | "operations">;
  /** Where to raise the checker's time limit, for an unknown verdict. */
  timeoutHint?: string;
}

/** Where the search's memory bound is raised (the checker's default is half the machine's memory, at most 4 GiB). */
const memoryHint = "raftlab check --memory (default: half the machine's memory, at most 4 GiB)";

const nsPerS = 1e9;
/** Completed operations named as the ones every order must place first. */
const precedingShownMax = 3;
// A check that names the bug's effect (an append applied twice) is explained before the general one.
const checkOrder = ["appends", "linearizable", "counter-bounds", "queue", "replicas", "node-logs", "stats"];

export function explainVerdict(input: ExplainInput): VerdictExplanation | undefined {
  const names = [...checkOrder, ...Object.keys(input.checks).filter((name) => !checkOrder.includes(name))];
  const invalid = names.find((name) => input.checks[name]?.valid === false);
  if (invalid !== undefined) {
    return explainInvalid(invalid, input);
  }
  const unknown = names.find((name) => input.checks[name]?.valid === "unknown");
  return unknown === undefined ? undefined : explainUnknown(unknown, input);
}

function explainInvalid(check: string, input: ExplainInput): VerdictExplanation {
  const report = input.checks[check] as CheckReport;
  const faults = faultIntervals(input.events);
  switch (check) {
    case "linearizable": {
      const partition = input.linearizability?.partitions.find((candidate) => candidate.verdict === "illegal");
      if (partition !== undefined) {
        return explainLinearizability(partition, input, faults);
      }
      break;
    }
    case "counter-bounds": {
      const first = (report as CounterBoundsReport).violations[0];
      const event = first === undefined ? undefined : input.events[first.index];
      if (first !== undefined && event !== undefined) {
        const timeS = event.time / nsPerS;
        return {
          check,
          firstAnomalyS: timeS,
          text:
            `A counter read returned ${first.value} to process ${first.process} at ${seconds(timeS)}${servedBy(event)}, outside ` +
            `[${first.lower}, ${first.upper}], the bounds every order of the adds allows (the adds completed before it surely ` +
            `happened; only adds invoked before it returned may have). ${faultsAt(faults, timeS)}`,
        };
      }
      break;
    }
    case "appends": {
      const first = (report as AppendsReport).violations[0];
      const invoke = first === undefined ? undefined : input.events[first.invokeIndex];
      if (first !== undefined && invoke !== undefined) {
        const timeS = invoke.time / nsPerS;
        const answered = input.events[first.completionIndex];
        const what =
          first.kind === "duplicated"
            ? `shows the appended token ${JSON.stringify(first.token)} ${first.count} times, but it was appended once: one append was applied twice (a retry deduplicated by no one)`
            : `shows the token ${JSON.stringify(first.token)}, which no append on this key wrote`;
        return {
          check,
          firstAnomalyS: timeS,
          text:
            `get ${JSON.stringify(first.key)} by process ${first.process}, invoked at ${seconds(timeS)}` +
            `${answered === undefined ? "" : ` and answered at ${seconds(answered.time / nsPerS)}${servedBy(answered)}`}, ${what}. ${faultsAt(faults, timeS)}`,
        };
      }
      break;
    }
    case "queue": {
      const queue = report as QueueReport;
      const parts = [
        queue.lost.length > 0 ? `acknowledged enqueues never dequeued (lost): ${values(queue.lost)}` : "",
        queue.duplicated.length > 0 ? `values dequeued twice: ${values(queue.duplicated)}` : "",
        queue.unexpected.length > 0 ? `values dequeued that no enqueue put there: ${values(queue.unexpected)}` : "",
      ].filter((part) => part !== "");
      const detail = parts.length > 0 ? parts.join("; ") : (queue.reason ?? "see the queue check's report");
      return { check, text: `The queue check failed: ${detail}. Faults during the run: ${describeFaults(faults)}.` };
    }
    case "replicas":
      return {
        check,
        text:
          `At the end of the run, after every fault was healed, the nodes' state machines differed: ${(report as ReplicasReport).reason}. ` +
          `Every replica applies the same committed entries in the same order, so equal indexes must give equal state. ` +
          `Faults during the run: ${describeFaults(faults)}.`,
      };
    case "node-logs": {
      const finding = (report as NodeLogsReport).findings[0];
      if (finding !== undefined) {
        return {
          check,
          text:
            `A node stopped on a broken invariant or logged an error: ${finding.file} line ${finding.line}: "${finding.message}". ` +
            `The node checks Raft's safety properties itself (as etcd panics), so this is a protocol violation even when no ` +
            `client observed it. Faults during the run: ${describeFaults(faults)}.`,
        };
      }
      break;
    }
    default:
      break;
  }
  const reason = (report as CheckReport & { reason?: unknown }).reason;
  return { check, text: `The ${check} check found a violation${typeof reason === "string" ? `: ${reason}` : ""}.` };
}

function explainLinearizability(partition: PartitionResult, input: ExplainInput, faults: FaultInterval[]): VerdictExplanation {
  const model = input.plugin.model;
  const bad = partition.firstBadOperation;
  if (bad === null) {
    return {
      check: "linearizable",
      text: `No order of the operations on key ${JSON.stringify(partition.key)} is legal: ${partition.violation ?? "the model refused every order"}.`,
    };
  }
  const callS = bad.call / nsPerS;
  const completion = Number.isFinite(bad.completionIndex) ? input.events[bad.completionIndex] : undefined;
  const answered = bad.type === "ok" ? "" : " (its outcome unknown)";
  // Writes constrain a result far more than reads: name the latest writes that completed first.
  const isWrite = (operation: HistoryOperation): boolean => input.plugin.operations[operation.input.f]?.readOnly !== true;
  const completedBefore = partition.operations
    .filter((operation) => operation.type === "ok" && operation.completionIndex < bad.invokeIndex)
    .sort((a, b) => b.completionIndex - a.completionIndex);
  const writesBefore = completedBefore.filter(isWrite);
  const preceding = (writesBefore.length > 0 ? writesBefore : completedBefore).slice(0, precedingShownMax);
  const before =
    preceding.length === 0
      ? "No operation on this key had completed when it was invoked"
      : `Every order must place before it what had completed when it was invoked; the latest ${writesBefore.length > 0 ? "writes" : "operations"} among those are ${preceding
          .map(
            (operation) =>
              `${model.describeOperation(operation.input, operation.outcome)} by process ${operation.process}${servedBy(input.events[operation.completionIndex])} (completed ${seconds(operation.ret / nsPerS)})`,
          )
          .join(", ")}`;
  const state = partition.stateBefore === null ? "" : ` The state after the longest legal order found was ${partition.stateBefore}.`;
  const text =
    `${model.describeOperation(bad.input, bad.outcome)} by process ${bad.process}, invoked at ${seconds(callS)}` +
    `${completion === undefined ? "" : ` and answered at ${seconds(completion.time / nsPerS)}${servedBy(completion)}`}${answered}, ` +
    `cannot be placed in any order of the history consistent with real time. ${before}.${state} ` +
    `${concurrentWrites(partition, bad)} ${faultsAt(faults, callS)}`;
  return { check: "linearizable", text: text.replace(/\s+/g, " ").trim(), firstAnomalyS: callS };
}

/** How many operations overlapped it: the orders the checker tried. */
function concurrentWrites(partition: PartitionResult, bad: HistoryOperation): string {
  const overlapping = partition.operations.filter(
    (operation) => operation !== bad && operation.invokeIndex < bad.completionIndex && operation.completionIndex > bad.invokeIndex,
  );
  return overlapping.length === 0
    ? "No other operation on this key overlapped it."
    : `${overlapping.length} other operation(s) on this key overlapped it, and no order of them explains the result.`;
}

function explainUnknown(check: string, input: ExplainInput): VerdictExplanation {
  const reason = (input.checks[check] as CheckReport & { reason?: unknown }).reason;
  const error = input.checks[check]?.error;
  if (error !== undefined) {
    return { check, text: `The ${check} check crashed, so its verdict is unknown: ${error.split("\n")[0] ?? ""}.` };
  }
  const text = typeof reason === "string" ? reason : "";
  if (/memo|memory/.test(text)) {
    return {
      check,
      text: `The ${check} verdict is unknown: the search ran out of memory (${text}). Raise the bound with ${memoryHint}, or shorten the run, use fewer keys per partition or fewer clients.`,
    };
  }
  if (/timed out/.test(text)) {
    return {
      check,
      text: `The ${check} verdict is unknown: the search ran out of time (${text}). Raise ${input.timeoutHint ?? "checker.timeout in the workload (or raftlab check --timeout)"}.`,
    };
  }
  return { check, text: `The ${check} verdict is unknown${text === "" ? "" : `: ${text}`}.` };
}

function servedBy(event: HistoryEvent | undefined): string {
  return event !== undefined && event.process !== "nemesis" && (event as ClientEvent).node !== undefined ? ` (node ${(event as ClientEvent).node})` : "";
}

function seconds(timeS: number): string {
  return `${timeS.toFixed(3)} s`;
}

function faultsAt(faults: readonly FaultInterval[], timeS: number): string {
  const active = faults.filter((fault) => fault.startS <= timeS && timeS <= fault.endS);
  if (active.length > 0) {
    return `Faults in force then: ${active.map(describeFault).join("; ")}.`;
  }
  const first = faults[0];
  return first === undefined
    ? "No fault was injected during the run."
    : first.startS > timeS
      ? `No fault was in force: it happened before the first fault (${describeFault(first)}).`
      : "No fault was in force at that moment (the last one had healed).";
}

function describeFaults(faults: readonly FaultInterval[]): string {
  return faults.length === 0 ? "none" : `${faults.length} (${[...new Set(faults.map((fault) => fault.f))].join(", ")})`;
}

function describeFault(fault: FaultInterval): string {
  const nodes = (fault.value as { nodes?: unknown } | null)?.nodes;
  return `${fault.f}${Array.isArray(nodes) ? ` on node(s) ${nodes.join(", ")}` : ""} from ${seconds(fault.startS)} to ${seconds(fault.endS)}`;
}

function values(list: readonly unknown[]): string {
  const shown = list.slice(0, 5).map((value) => JSON.stringify(value));
  return list.length > 5 ? `${shown.join(", ")} and ${list.length - 5} more` : shown.join(", ");
}
