// The data behind the HTML view, built from the raw history (so `fail` operations show too) and
// the check result. Kept compact (parallel arrays) because a 100k-operation history embeds it all.
import type { Plugin } from "../plugins/api.js";
import type { ParsedHistory } from "../history/parse.js";
import type { CheckResult } from "./linearizable.js";
import { nemesisWindows, type NemesisWindow } from "../history/fault-targets.js";

/** Operation kinds, as drawn. */
export const viewKinds = { ok: 0, fail: 1, info: 2, open: 3 } as const;

export interface ReportData {
  file: string;
  plugin: string;
  verdict: CheckResult["verdict"];
  reason: string | null;
  elapsedMs: number;
  eventCount: number;
  /** Process id of each lane, in order of first appearance. */
  lanes: number[];
  /** The nodes that answered each lane's operations (when the history records them), e.g. "3" or "1,3". */
  laneNodes: string[];
  /** Run time of the last event, milliseconds: the wall-time axis's extent. */
  durationMs: number;
  /** Fault windows from the nemesis events, in event indexes and run time. */
  faults: NemesisWindow[];
  /** Per operation (every invoke, in file order): lane, start and end event index, kind. */
  operationLane: number[];
  operationStart: number[];
  /** Completion event index; eventCount when the file never completes the call. */
  operationEnd: number[];
  /**
   * Run time of each invoke, integer microseconds after the previous operation's invoke (the first:
   * after time 0), and each operation's duration to its completion (to the history's end when none),
   * integer microseconds. Deltas keep 100k operations' times near 1 MB of JSON instead of 2.
   */
  operationStartDeltaUs: number[];
  operationDurationUs: number[];
  operationKind: number[];
  /** Partition index of each operation, -1 for fail ops (the checker drops them). */
  operationPartition: number[];
  operationText: string[];
  /** 1-based file lines of the invoke and the completion (0 when none). */
  operationInvokeLine: number[];
  operationCompletionLine: number[];
  partitions: ReportPartition[];
}

export interface ReportPartition {
  key: string | null;
  verdict: CheckResult["verdict"];
  operationCount: number;
  /** Operations (indices into the operation arrays) of the linearization or longest prefix. */
  order: number[];
  /** model.describeState after each operation of `order`. */
  statesAfter: string[];
  /** The operation that could not be placed next, or -1. */
  badOperation: number;
  stateBefore: string | null;
  /** illegal without a search: why, in the model's words (then `order` is empty). */
  violation: string | null;
  /** illegal without a search: the cycle of orders no linearization meets, as operations and reasons. */
  witness: ReportWitnessStep[] | null;
}

/** One order of a violation's cycle: operation `before` must precede `after` (-1: the initial state). */
export interface ReportWitnessStep {
  before: number;
  after: number;
  because: string;
}

export function buildReportData(input: { file: string; plugin: Plugin; history: ParsedHistory; result: CheckResult }): ReportData {
  const { history, result, plugin } = input;
  const model = plugin.model;
  const events = history.events;
  const laneOfProcess = new Map<number, number>();
  const lanes: number[] = [];
  const data: ReportData = {
    file: input.file,
    plugin: plugin.name,
    verdict: result.verdict,
    reason: result.reason ?? null,
    elapsedMs: Math.round(result.elapsedMs),
    eventCount: events.length,
    lanes,
    laneNodes: [],
    durationMs: msOf(events[events.length - 1]?.time ?? 0),
    faults: nemesisWindows(events),
    operationLane: [],
    operationStart: [],
    operationEnd: [],
    operationStartDeltaUs: [],
    operationDurationUs: [],
    operationKind: [],
    operationPartition: [],
    operationText: [],
    operationInvokeLine: [],
    operationCompletionLine: [],
    partitions: [],
  };
  const operationOfInvoke = new Map<number, number>();
  const openByProcess = new Map<number, number>();
  const nodesOfLane: Set<string>[] = [];
  const startUs: number[] = [];
  const endUs: number[] = [];
  const endOfHistoryUs = usOf(events[events.length - 1]?.time ?? 0);
  events.forEach((event, eventIndex) => {
    if (event.process === "nemesis") {
      return;
    }
    if (event.type === "invoke") {
      let lane = laneOfProcess.get(event.process);
      if (lane === undefined) {
        lane = lanes.length;
        lanes.push(event.process);
        nodesOfLane.push(new Set<string>());
        laneOfProcess.set(event.process, lane);
      }
      if (event.node !== undefined) {
        nodesOfLane[lane]?.add(event.node);
      }
      const operation = data.operationLane.length;
      operationOfInvoke.set(eventIndex, operation);
      openByProcess.set(event.process, operation);
      data.operationLane.push(lane);
      data.operationStart.push(eventIndex);
      data.operationEnd.push(events.length);
      startUs.push(usOf(event.time));
      endUs.push(endOfHistoryUs);
      data.operationKind.push(viewKinds.open);
      data.operationPartition.push(-1);
      const input = event.key === undefined ? { f: event.f, value: event.value } : { f: event.f, key: event.key, value: event.value };
      data.operationText.push(model.describeOperation(input, { known: false }));
      data.operationInvokeLine.push(history.lines[eventIndex] ?? 0);
      data.operationCompletionLine.push(0);
      return;
    }
    const operation = openByProcess.get(event.process);
    if (operation === undefined) {
      return;
    }
    openByProcess.delete(event.process);
    data.operationEnd[operation] = eventIndex;
    endUs[operation] = usOf(event.time);
    if (event.node !== undefined) {
      nodesOfLane[data.operationLane[operation] ?? 0]?.add(event.node);
    }
    data.operationKind[operation] = viewKinds[event.type];
    data.operationCompletionLine[operation] = history.lines[eventIndex] ?? 0;
    if (event.type === "fail") {
      data.operationText[operation] = `${data.operationText[operation] ?? ""} (failed)`;
    }
  });
  data.operationStartDeltaUs = startUs.map((start, operation) => start - (operation === 0 ? 0 : (startUs[operation - 1] ?? 0)));
  data.operationDurationUs = startUs.map((start, operation) => (endUs[operation] ?? start) - start);
  data.laneNodes = nodesOfLane.map((nodes) => [...nodes].sort((a, b) => Number(a) - Number(b) || a.localeCompare(b)).join(","));
  result.partitions.forEach((partition, partitionIndex) => {
    const viewOperation = (invokeIndex: number): number => operationOfInvoke.get(invokeIndex) ?? -1;
    for (const operation of partition.operations) {
      const index = viewOperation(operation.invokeIndex);
      data.operationPartition[index] = partitionIndex;
      data.operationText[index] = model.describeOperation(operation.input, operation.outcome);
    }
    data.partitions.push({
      key: partition.key,
      verdict: partition.verdict,
      operationCount: partition.operations.length,
      order: partition.linearization.map((step) => viewOperation(step.operation.invokeIndex)),
      statesAfter: partition.linearization.map((step) => step.stateAfter),
      badOperation: partition.firstBadOperation === null ? -1 : viewOperation(partition.firstBadOperation.invokeIndex),
      stateBefore: partition.stateBefore,
      violation: partition.violation ?? null,
      witness:
        partition.violationWitness?.cycle.map((step) => ({
          before: step.before === null ? -1 : viewOperation(step.before.invokeIndex),
          after: step.after === null ? -1 : viewOperation(step.after.invokeIndex),
          because: step.because,
        })) ?? null,
    });
  });
  return data;
}

/** Nanoseconds to milliseconds, kept to the microsecond. */
function msOf(timeNs: number): number {
  return usOf(timeNs) / 1e3;
}

/** Nanoseconds to whole microseconds: enough to place a bar, short in the JSON. */
function usOf(timeNs: number): number {
  return Math.round(timeNs / 1e3);
}
