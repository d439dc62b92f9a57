// Linearizability checking of a whole history: split it into independent partitions with the
// model's partitionKey (P-compositionality: a history is linearizable iff every partition is),
// search each with PortfolioSearch, and explain the verdict.
//
// Partitions are searched in rounds with a doubling iteration quantum, so one hard partition
// cannot starve the others: an illegal partition is found early even when another one would
// exhaust the deadline. The first illegal partition ends the check.
import { totalmem } from "node:os";
import { getHeapStatistics } from "node:v8";
import { PluginError, type Model, type Plugin } from "../plugins/api.js";
import type { MemoUsage } from "./linearized-set.js";
import type { HistoryOperation } from "./operations.js";
import type { InfoStrategy, ReadOnlyPredicate } from "./partition-search.js";
import { PortfolioSearch } from "./portfolio-search.js";
import { preparePartition, type PreparedPartition } from "./prepare-history.js";
import { searchSegments, type SegmentedOutcome } from "./segment-search.js";
import type { ViolationWitness } from "./violation-witness.js";

export type Verdict = "ok" | "illegal" | "unknown";

export interface CheckOptions {
  /** Give up with verdict "unknown" after this long. Default 60 s. */
  timeoutMs?: number;
  /** Give up with verdict "unknown" once the memo holds this many entries (bounds memory). */
  memoEntriesMax?: number;
  /** Give up with verdict "unknown" once the memos hold about this many bytes (an estimate; default no bound). */
  memoBytesMax?: number;
  /**
   * Give up with verdict "unknown" once the process's resident memory (RSS, measured) exceeds
   * this. Default: half the machine's memory, at most 4 GiB. The search also stops before the
   * JavaScript heap reaches 90% of V8's limit, where the process would otherwise crash.
   */
  memoryBytesMax?: number;
  /**
   * Operations that never change the state whatever their outcome (a plugin's `readOnly`
   * operations). Optional; it lets the search prune far more. A wrong answer gives wrong verdicts.
   */
  readOnly?: ReadOnlyPredicate;
  /** Search strategies run side by side per partition (tests pin one); default all. */
  strategies?: readonly InfoStrategy[];
  /**
   * A partition left to the search with at least this many operations is first searched segment
   * by segment, cut at quiescent points (segment-search.ts). Default 2000 (measured: below that the whole-partition search is faster); tests set 0.
   */
  segmentOperationsMin?: number;
}

export interface LinearizedStep {
  operation: HistoryOperation;
  /** model.describeState after the operation. */
  stateAfter: string;
}

export interface PartitionResult {
  /** The partition key (null when the model does not partition this history). */
  key: string | null;
  verdict: Verdict;
  /** The partition's operations, in invoke order. */
  operations: HistoryOperation[];
  /**
   * ok: a complete linearization. illegal or unknown: the longest linearizable prefix found.
   * Empty for a partition never searched.
   */
  linearization: LinearizedStep[];
  /** illegal/unknown: the op that could not be placed after the longest prefix. */
  firstBadOperation: HistoryOperation | null;
  /** model.describeState when firstBadOperation had to be placed. */
  stateBefore: string | null;
  /** Search iterations spent on this partition. */
  iterations: number;
  /** illegal: why, when the model found the violation without a search (no prefix then). */
  violation?: string;
  /**
   * illegal without a search, when the model can tell: the cycle of orders that no
   * linearization meets (firstBadOperation is one of its operations).
   */
  violationWitness?: ViolationWitness;
}

export interface CheckResult {
  verdict: Verdict;
  partitions: PartitionResult[];
  /** Partitions with a final verdict (ok or illegal). */
  partitionsDone: number;
  operationCount: number;
  elapsedMs: number;
  /** Why the verdict is unknown. */
  reason?: string;
}

const defaultTimeoutMs = 60_000;
const defaultMemoEntriesMax = 20_000_000;
const heapLimitFraction = 0.9;

/** Half the machine's memory, at most 4 GiB: a checker that leaves room for everything else. */
export function defaultMemoryBytesMax(): number {
  return Math.min(4 * 2 ** 30, totalmem() / 2);
}
const firstQuantumIterations = 20_000;
const segmentOperationsMinDefault = 2000;
// Past these the segments do not pay (too many states to carry between them, or segments too
// long), and the whole partition is searched instead; the nodes spent bound the time lost.
const segmentLimits = { endStatesMax: 64, segmentOperationsMax: 1024, segmentShareMax: 0.5 };
const segmentNodesPerOperation = 16;

export function checkOperations<S>(model: Model<S>, operations: readonly HistoryOperation[], options: CheckOptions = {}): CheckResult {
  const started = performance.now();
  const deadline = started + (options.timeoutMs ?? defaultTimeoutMs);
  const memoEntriesMax = options.memoEntriesMax ?? defaultMemoEntriesMax;
  const groups = partitionOperations(model, operations);
  const memoUsage: MemoUsage = { entries: 0, bytes: 0, bytesMax: options.memoBytesMax ?? Infinity, growthBytesMax: Infinity, growthRefused: false };
  const memory = new MemoryGauge(options.memoryBytesMax ?? defaultMemoryBytesMax());
  // A model's prepareHistory hook may specialise it per partition; reports use the original
  // model and operations (a prepared copy may carry a deadline instead of its completion).
  const preparedGroups = groups.map((group) => preparePartition(model, group.operations));
  // Partitions left to the search are tried segment by segment first, with the plain model and
  // operations (exact whatever the preparation); null where that does not pay or gave up.
  const segmentOperationsMin = options.segmentOperationsMin ?? segmentOperationsMinDefault;
  const segmented = preparedGroups.map((prepared, index) => {
    const operations = (groups[index] as PartitionGroup).operations;
    return prepared.violation !== null || prepared.linearization !== null || operations.length < segmentOperationsMin
      ? null
      : searchSegments(model, operations, { ...segmentLimits, nodesMax: segmentNodesPerOperation * operations.length + 4096 }, options.readOnly);
  });
  // Partitions decided without a search get none.
  const searches = preparedGroups.map((prepared, index) =>
    prepared.violation !== null || prepared.linearization !== null || segmented[index] !== null
      ? null
      : new PortfolioSearch(prepared.model, prepared.operations, memoUsage, options.readOnly, options.strategies, {
          precedences: prepared.precedences,
          priorities: prepared.priorities,
          readOnlyKeepsKey: !prepared.specialised,
        }),
  );
  let reason: string | undefined;
  // A violation the model found without searching decides the check at once.
  let illegalIndex = preparedGroups.findIndex((prepared, index) => prepared.violation !== null || segmented[index]?.verdict === "illegal");
  let quantum = firstQuantumIterations;
  let pending = searches.flatMap((search, index) => (search === null ? [] : [index]));
  rounds: while (pending.length > 0 && illegalIndex === -1) {
    const stillRunning: number[] = [];
    for (const index of pending) {
      // Pending holds searched partitions only.
      const search = searches[index] as PortfolioSearch<S>;
      // Small slices so the deadline is honoured even inside one long partition.
      let budget = quantum;
      if (performance.now() > deadline) {
        reason = `timed out after ${Math.round(performance.now() - started)} ms`;
        break rounds;
      }
      while (budget > 0 && search.status === "running") {
        const slice = Math.min(budget, firstQuantumIterations);
        memoUsage.growthBytesMax = memory.roomBytes();
        search.advance(slice, memoEntriesMax);
        budget -= slice;
        if (memoUsage.entries >= memoEntriesMax && search.status === "running") {
          reason = `the search memo reached its bound of ${memoEntriesMax} entries`;
          break rounds;
        }
        if (memoUsage.bytes >= memoUsage.bytesMax && search.status === "running") {
          reason = `the search memo reached its memory bound of ${Math.round(memoUsage.bytesMax / 2 ** 20)} MiB`;
          break rounds;
        }
        const overMemory = search.status !== "running" ? null : memoUsage.growthRefused ? memory.refusedGrowth() : memory.overBound();
        if (overMemory !== null) {
          reason = overMemory;
          break rounds;
        }
        if (performance.now() > deadline) {
          if (search.status === "running") {
            reason = `timed out after ${Math.round(performance.now() - started)} ms`;
            break rounds;
          }
        }
      }
      if (search.status === "illegal") {
        illegalIndex = index;
        break rounds;
      }
      if (search.status === "running") {
        stillRunning.push(index);
      }
    }
    pending = stillRunning;
    quantum *= 2;
  }
  const partitions = searches.map((search, index) => {
    const prepared = preparedGroups[index] as PreparedPartition;
    const group = groups[index] as PartitionGroup;
    if (prepared.violation !== null) {
      const result: PartitionResult = {
        key: group.key,
        // Certain without a search, whichever partition ended the check.
        verdict: "illegal",
        operations: group.operations,
        linearization: [],
        firstBadOperation: prepared.violation.operation,
        stateBefore: null,
        iterations: 0,
        violation: prepared.violation.reason,
      };
      if (prepared.violation.witness !== null) {
        result.violationWitness = prepared.violation.witness;
      }
      return result;
    }
    const segmentedOutcome = segmented[index] ?? null;
    if (segmentedOutcome !== null) {
      return segmentedPartition(model, group, segmentedOutcome);
    }
    if (prepared.linearization !== null || search === null) {
      return decidedPartition(model, group, prepared.linearization ?? []);
    }
    return describePartition(prepared.model, group, search);
  });
  const partitionsDone = partitions.filter((partition) => partition.verdict !== "unknown").length;
  const verdict: Verdict = illegalIndex !== -1 ? "illegal" : reason !== undefined ? "unknown" : "ok";
  const result: CheckResult = {
    verdict,
    partitions,
    partitionsDone,
    operationCount: operations.length,
    elapsedMs: performance.now() - started,
  };
  if (verdict === "unknown" && reason !== undefined) {
    result.reason = reason;
  }
  return result;
}

/** Real memory, measured: the process's RSS against a bound, and the JavaScript heap against V8's limit. */
class MemoryGauge {
  private readonly heapBytesMax = getHeapStatistics().heap_size_limit * heapLimitFraction;

  constructor(private readonly rssBytesMax: number) {}

  /** Why the search must stop, or null while memory is within bounds. */
  overBound(): string | null {
    const rssBytes = process.memoryUsage.rss();
    if (rssBytes > this.rssBytesMax) {
      return `the process reached its memory bound: ${mebibytes(rssBytes)} MiB resident, bound ${mebibytes(this.rssBytesMax)} MiB`;
    }
    const heapBytes = getHeapStatistics().used_heap_size;
    if (heapBytes > this.heapBytesMax) {
      return `the JavaScript heap reached ${mebibytes(heapBytes)} MiB, ${heapLimitFraction * 100}% of its limit`;
    }
    return null;
  }

  /** Bytes the search may still allocate before the process passes its bound (0 when past it). */
  roomBytes(): number {
    return Math.max(0, this.rssBytesMax - process.memoryUsage.rss());
  }

  /** The reason when a memo did not grow because the growth would have passed the bound. */
  refusedGrowth(): string {
    const rssBytes = process.memoryUsage.rss();
    if (rssBytes > this.rssBytesMax) {
      return this.overBound() as string;
    }
    return `the process reached its memory bound: ${mebibytes(rssBytes)} MiB resident, and the search memo's next growth would pass the bound of ${mebibytes(this.rssBytesMax)} MiB`;
  }
}

function mebibytes(bytes: number): number {
  return Math.round(bytes / 2 ** 20);
}

/** The read-only predicate a plugin declares through its operation specs. */
export function readOnlyOperations(plugin: Pick<Plugin, "operations">): ReadOnlyPredicate {
  return (input) => plugin.operations[input.f]?.readOnly === true;
}

interface PartitionGroup {
  key: string | null;
  operations: HistoryOperation[];
}

/**
 * Groups operations by partition key, in order of first appearance. An operation with a null key
 * may interact with every key, so then the history stays one partition. Throws
 * UnpartitionableOperationError for an operation the model places nowhere.
 */
export function partitionOperations<S>(model: Model<S>, operations: readonly HistoryOperation[]): PartitionGroup[] {
  const groups = new Map<string, HistoryOperation[]>();
  for (const operation of operations) {
    const key = partitionKeyOf(model, operation);
    if (key === null) {
      return operations.length === 0 ? [] : [{ key: null, operations: [...operations] }];
    }
    let group = groups.get(key);
    if (group === undefined) {
      group = [];
      groups.set(key, group);
    }
    group.push(operation);
  }
  return [...groups].map(([key, group]) => ({ key, operations: group }));
}

/**
 * An operation the model cannot place in any partition (a kv operation without a key): the
 * history is bad input. `operation` locates it in the history (invokeIndex is its event).
 */
export class UnpartitionableOperationError extends Error {
  readonly code = "CHECK_UNPARTITIONABLE";
  override readonly name = "UnpartitionableOperationError";

  constructor(
    readonly operation: HistoryOperation,
    reason: string,
  ) {
    super(reason);
  }
}

function partitionKeyOf<S>(model: Model<S>, operation: HistoryOperation): string | null {
  try {
    return model.partitionKey(operation.input);
  } catch (error) {
    if (error instanceof PluginError) {
      throw new UnpartitionableOperationError(operation, error.message);
    }
    throw error;
  }
}

/**
 * A partition the model linearized without a search. Its steps are described only when a report
 * reads them: a million operations' state descriptions would dwarf the check itself.
 */
function decidedPartition<S>(model: Model<S>, group: PartitionGroup, order: readonly HistoryOperation[]): PartitionResult {
  let steps: LinearizedStep[] | null = null;
  const describeSteps = (): LinearizedStep[] => {
    let state = model.init();
    return order.map((operation) => {
      state = model.step(state, operation.input, operation.outcome) as S;
      return { operation, stateAfter: model.describeState(state) };
    });
  };
  const result = {
    key: group.key,
    verdict: "ok" as const,
    operations: group.operations,
    firstBadOperation: null,
    stateBefore: null,
    iterations: 0,
  };
  return Object.defineProperty(result, "linearization", {
    enumerable: true,
    get: (): LinearizedStep[] => (steps ??= describeSteps()),
  }) as PartitionResult;
}

/** A partition decided segment by segment: its linearization, or the longest prefix found and the op that cannot follow it. */
function segmentedPartition<S>(model: Model<S>, group: PartitionGroup, outcome: SegmentedOutcome<S>): PartitionResult {
  if (outcome.verdict === "ok") {
    // Not spread: the decided partition describes its steps lazily, through a getter.
    const decided = decidedPartition(model, group, outcome.order);
    decided.iterations = outcome.nodes;
    return decided;
  }
  let state = model.init();
  const linearization = outcome.prefix.map((operation) => {
    state = model.step(state, operation.input, operation.outcome) as S;
    return { operation, stateAfter: model.describeState(state) };
  });
  return {
    key: group.key,
    verdict: "illegal",
    operations: group.operations,
    linearization,
    firstBadOperation: outcome.blocked,
    stateBefore: model.describeState(outcome.stateBefore),
    iterations: outcome.nodes,
  };
}

function describePartition<S>(model: Model<S>, group: PartitionGroup, search: PortfolioSearch<S>): PartitionResult {
  const operations = group.operations;
  const originalById = new Map(operations.map((operation) => [operation.id, operation]));
  const original = (local: number): HistoryOperation => {
    const searched = search.operationAt(local);
    return originalById.get(searched.id) ?? searched;
  };
  const verdict: Verdict = search.status === "running" ? "unknown" : search.status;
  const started = search.iterations > 0;
  const attempt = search.longestAttempt();
  const linearization = started
    ? attempt.order.map((local, position) => ({
        operation: original(local),
        stateAfter: model.describeState(attempt.statesAfter[position] as S),
      }))
    : [];
  const blocked = attempt.blockedOperation;
  const firstBadOperation = started && blocked !== null ? original(blocked) : null;
  return {
    key: group.key,
    verdict,
    operations,
    linearization,
    firstBadOperation,
    stateBefore: firstBadOperation === null ? null : model.describeState(attempt.stateBefore as S),
    iterations: search.iterations,
  };
}
