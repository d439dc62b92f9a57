// Decides a kv history of gets, puts and cas on one key whose written values are unique (raftlab's
// generator writes unique values) without a search, in O(n log n): with unique values every read
// names the write it saw (Gibbons & Korach's register with a known read-mapping). Any other history
// (append, delete, a value written twice, several keys in one partition, a malformed operation) is
// searched as it is.
//
// Terms (read-mapping.ts): the cluster of a write is the write and the ok gets of its value; the
// gets of null form the initial state's cluster, before everything. A swap (a cas that returned
// true) that replaced e by n chains n's cluster immediately after e's. x < y is real-time order
// (x returned before y was called); a cluster's `low` is the earliest return of its operations,
// its `high` the latest call; a chain's are those of its clusters together.
//
// In a linearization each cluster is contiguous (a read between two writes sees the first, and
// no value is written twice), and so is each chain, in its order. So the history without its
// misses (cas that returned false, which change nothing) is linearizable iff
//   1. no get returns before the write of its value is called;
//   2. no chain loops (a swap chain that comes back to its start);
//   3. within a chain, no cluster's low is below the high of a cluster before it (an operation of
//      the later cluster returned before one of the earlier was called);
//   4. no two chains C, D have low(C) < high(D) and low(D) < high(C): each would have to come
//      before the other. (A longer cycle of such orders always contains one of two: the relation
//      compares one end of each chain with one end of the other.)
// When all hold, the chains ordered by min(low, high), clusters in chain order, each as its write
// then its gets by call, are a linearization. Each miss is then placed at the earliest point its
// real-time window and the misses before it allow where the value is not the one it expected; if
// one cannot be placed that way, the whole history is searched, trying that order first (another
// order might fit it). The checker verifies the linearization by stepping the model, so a bug
// here cannot make a wrong "ok".
// A violation of 1-4 is one without the misses, so one of the history; each is proven exact by
// checker/differential.test.ts against brute force.
import type { HistoryPreparation, PrecedenceStep, TimedOperation } from "../api.js";
import { initialCluster, readMappingOf, type ReadMapping } from "./read-mapping.js";
import { placeMisses } from "./place-misses.js";
import { appendMappingOf, placeUnseen, replays } from "./append-mapping.js";

type Violation = NonNullable<HistoryPreparation["violation"]>;

export function prepareKvHistory(operations: readonly TimedOperation[]): HistoryPreparation {
  if (operations.length === 0) {
    return {};
  }
  if (operations.some((operation) => operation.input.f === "append")) {
    return prepareAppendHistory(operations);
  }
  const mapping = readMappingOf(operations);
  if (mapping === null) {
    return {};
  }
  if ("violation" in mapping) {
    return { violation: mapping.violation };
  }
  const chains = chainsOf(mapping);
  if (!Array.isArray(chains)) {
    return { violation: chains };
  }
  const bounds = clusterBounds(operations, mapping);
  const violation =
    findReadBeforeWrite(operations, mapping) ?? findChainInversion(operations, mapping, chains, bounds) ?? findConflict(operations, mapping, chains, bounds);
  if (violation !== undefined) {
    return { violation };
  }
  const core = coreOrder(operations, mapping, chains, bounds);
  const linearization = placeMisses(operations, mapping, core);
  if (linearization !== null) {
    return { omit: mapping.omit, linearization };
  }
  // The search decides; it tries the order found first. Only gets of unknown outcome are left
  // out: an unobserved write may be what a failed cas saw.
  return {
    omit: mapping.omit.filter((index) => (operations[index] as TimedOperation).input.f === "get"),
    priorities: new Map(core.map((index, position) => [index, position])),
  };
}

/**
 * A history with appends: the order the chain reasoning finds, with the appends no read saw, is
 * a candidate that is used only once replays() verified it; otherwise (a violation included,
 * which this reasoning does not prove for appends) the search decides.
 */
function prepareAppendHistory(operations: readonly TimedOperation[]): HistoryPreparation {
  const found = appendMappingOf(operations);
  if (found === null) {
    return {};
  }
  const { mapping, unseen } = found;
  const chains = chainsOf(mapping);
  if (!Array.isArray(chains)) {
    return {};
  }
  const bounds = clusterBounds(operations, mapping);
  if (
    findReadBeforeWrite(operations, mapping) ??
    findChainInversion(operations, mapping, chains, bounds) ??
    findConflict(operations, mapping, chains, bounds)
  ) {
    return {};
  }
  const order = placeUnseen(operations, coreOrder(operations, mapping, chains, bounds), unseen);
  // A candidate that fails is no good hint either (the search measured slower with it).
  return replays(operations, order) ? { omit: mapping.omit, linearization: order } : {};
}

/** Per cluster: `low` and `high`, and the operations they come from (-1: none, the initial state's low). */
interface ClusterBounds {
  low: Float64Array;
  high: Float64Array;
  lowOperation: Int32Array;
  highOperation: Int32Array;
}

function clusterBounds(operations: readonly TimedOperation[], mapping: ReadMapping): ClusterBounds {
  const clusterCount = mapping.writeOf.length;
  const bounds: ClusterBounds = {
    low: new Float64Array(clusterCount).fill(Infinity),
    high: new Float64Array(clusterCount).fill(-Infinity),
    lowOperation: new Int32Array(clusterCount).fill(-1),
    highOperation: new Int32Array(clusterCount).fill(-1),
  };
  // The initial state's "write" returned before anything was called.
  bounds.low[initialCluster] = -Infinity;
  for (let index = 0; index < operations.length; index += 1) {
    const cluster = mapping.clusterOf[index] as number;
    if (cluster === -1) {
      continue;
    }
    const { call, ret } = operations[index] as TimedOperation;
    if (ret < (bounds.low[cluster] as number)) {
      bounds.low[cluster] = ret;
      bounds.lowOperation[cluster] = index;
    }
    if (call > (bounds.high[cluster] as number)) {
      bounds.high[cluster] = call;
      bounds.highOperation[cluster] = index;
    }
  }
  return bounds;
}

/** The chains (clusters in order), or the violation of a chain that loops. */
function chainsOf(mapping: ReadMapping): number[][] | Violation {
  const { writeOf, predecessorOf, successorOf } = mapping;
  const visited = new Uint8Array(writeOf.length);
  const chains: number[][] = [];
  for (let head = 0; head < writeOf.length; head += 1) {
    if (predecessorOf[head] !== -1) {
      continue;
    }
    const chain: number[] = [];
    for (let cluster = head; cluster !== -1; cluster = successorOf[cluster] as number) {
      visited[cluster] = 1;
      chain.push(cluster);
    }
    chains.push(chain);
  }
  const looped = visited.indexOf(0);
  if (looped === -1) {
    return chains;
  }
  // Every cluster of a loop is written by a swap of the one before: a cycle of read-from steps.
  const cycle: PrecedenceStep[] = [];
  let cluster = looped;
  do {
    const next = successorOf[cluster] as number;
    cycle.push({ before: writeOf[cluster] as number, after: writeOf[next] as number, because: "read-from" });
    cluster = next;
  } while (cluster !== looped);
  return { operation: writeOf[looped] as number, reason: "cas operations swapped values in a circle, each value written once", cycle };
}

/** A get that returned before the write of its value was called. */
function findReadBeforeWrite(operations: readonly TimedOperation[], mapping: ReadMapping): Violation | undefined {
  for (let index = 0; index < operations.length; index += 1) {
    const operation = operations[index] as TimedOperation;
    const cluster = mapping.clusterOf[index] as number;
    const write = cluster === -1 ? null : (mapping.writeOf[cluster] as number | null);
    if (operation.input.f !== "get" || write === null || write === index) {
      continue;
    }
    if (operation.ret < (operations[write] as TimedOperation).call) {
      return {
        operation: index,
        reason: `it read ${JSON.stringify(operation.outcome.known ? operation.outcome.value : null)} before the write of that value was called`,
        cycle: [
          { before: write, after: index, because: "read-from" },
          { before: index, after: write, because: "real-time" },
        ],
      };
    }
  }
  return undefined;
}

/** Within a chain, a cluster with an operation that returned before one of an earlier cluster was called. */
function findChainInversion(
  operations: readonly TimedOperation[],
  mapping: ReadMapping,
  chains: readonly number[][],
  bounds: ClusterBounds,
): Violation | undefined {
  for (const chain of chains) {
    let earliest = -1;
    for (let position = 0; position < chain.length; position += 1) {
      const cluster = chain[position] as number;
      if (earliest !== -1 && (bounds.low[cluster] as number) < (bounds.high[chain[earliest] as number] as number)) {
        const before = chain[earliest] as number;
        const cycle: PrecedenceStep[] = [];
        for (let step = earliest; step < position; step += 1) {
          cycle.push({
            before: mapping.writeOf[chain[step] as number] as number | null,
            after: mapping.writeOf[chain[step + 1] as number] as number,
            because: "read-from",
          });
        }
        const [earlier, later] = [bounds.lowOperation[cluster] as number, bounds.highOperation[before] as number];
        cycle.push({
          before: mapping.writeOf[cluster] as number,
          after: mapping.writeOf[before] as number | null,
          because: "write-order",
          evidence: [earlier, later],
        });
        return {
          operation: later,
          reason: `cas operations put ${valueOf(operations, mapping.writeOf[before] as number | null)} before ${valueOf(operations, mapping.writeOf[cluster] as number)}, but ${nameOf(operations, earlier)} returned before ${nameOf(operations, later)} was called`,
          cycle,
        };
      }
      if (earliest === -1 || (bounds.high[cluster] as number) > (bounds.high[chain[earliest] as number] as number)) {
        earliest = position;
      }
    }
  }
  return undefined;
}

/**
 * Two chains C and D with low(C) < high(D) and low(D) < high(C), if any: chains sorted by low,
 * and for each D the chain of largest high among those with low below high(D) (the best two, so
 * that D itself can be skipped).
 */
function findConflict(operations: readonly TimedOperation[], mapping: ReadMapping, chains: readonly number[][], bounds: ClusterBounds): Violation | undefined {
  const ends = chainEnds(chains, bounds);
  const order = Array.from(chains.keys()).sort((first, second) => (ends.low[first] as number) - (ends.low[second] as number) || first - second);
  const sortedLow = Float64Array.from(order, (chain) => ends.low[chain] as number);
  const bestChain = new Int32Array(order.length + 1).fill(-1);
  const secondChain = new Int32Array(order.length + 1).fill(-1);
  for (let position = 0; position < order.length; position += 1) {
    const chain = order[position] as number;
    let best = bestChain[position] as number;
    let second = secondChain[position] as number;
    if (best === -1 || (ends.high[chain] as number) > (ends.high[best] as number)) {
      second = best;
      best = chain;
    } else if (second === -1 || (ends.high[chain] as number) > (ends.high[second] as number)) {
      second = chain;
    }
    bestChain[position + 1] = best;
    secondChain[position + 1] = second;
  }
  for (const chain of order) {
    const prefix = countBelow(sortedLow, ends.high[chain] as number);
    const best = bestChain[prefix] as number;
    const other = best === chain ? (secondChain[prefix] as number) : best;
    if (other !== -1 && (ends.high[other] as number) > (ends.low[chain] as number)) {
      return describeConflict(operations, mapping, ends, [other, chain], chains);
    }
  }
  return undefined;
}

interface ChainEnds {
  low: Float64Array;
  high: Float64Array;
  lowOperation: Int32Array;
  highOperation: Int32Array;
}

function chainEnds(chains: readonly number[][], bounds: ClusterBounds): ChainEnds {
  const ends: ChainEnds = {
    low: new Float64Array(chains.length).fill(Infinity),
    high: new Float64Array(chains.length).fill(-Infinity),
    lowOperation: new Int32Array(chains.length).fill(-1),
    highOperation: new Int32Array(chains.length).fill(-1),
  };
  chains.forEach((chain, index) => {
    for (const cluster of chain) {
      if ((bounds.low[cluster] as number) < (ends.low[index] as number)) {
        ends.low[index] = bounds.low[cluster] as number;
        ends.lowOperation[index] = bounds.lowOperation[cluster] as number;
      }
      if ((bounds.high[cluster] as number) > (ends.high[index] as number)) {
        ends.high[index] = bounds.high[cluster] as number;
        ends.highOperation[index] = bounds.highOperation[cluster] as number;
      }
    }
  });
  return ends;
}

/** How many of the sorted values are below `limit`. */
function countBelow(sorted: Float64Array, limit: number): number {
  let lowest = 0;
  let highest = sorted.length;
  while (lowest < highest) {
    const middle = (lowest + highest) >>> 1;
    if ((sorted[middle] as number) < limit) {
      lowest = middle + 1;
    } else {
      highest = middle;
    }
  }
  return lowest;
}

function describeConflict(
  operations: readonly TimedOperation[],
  mapping: ReadMapping,
  ends: ChainEnds,
  [first, second]: [number, number],
  chains: readonly number[][],
): Violation {
  // x in `first` returned before y in `second` was called, and u in `second` before v in `first`
  // (x or u is -1 for the initial state's cluster, which comes first without any evidence).
  const x = ends.lowOperation[first] as number;
  const y = ends.highOperation[second] as number;
  const u = ends.lowOperation[second] as number;
  const v = ends.highOperation[first] as number;
  const writeOfOperation = (index: number): number | null => mapping.writeOf[mapping.clusterOf[index] as number] as number | null;
  const firstWrite = x === -1 ? null : writeOfOperation(x);
  const orderOf = (earlier: number, later: number): string =>
    earlier === -1
      ? `${valueOf(operations, null)} came first (the initial state)`
      : `${valueOf(operations, writeOfOperation(earlier))} came before ${valueOf(operations, writeOfOperation(later))} (${nameOf(operations, earlier)} returned before ${nameOf(operations, later)} was called)`;
  // Reported: the one of y and v that saw the older value (of the write called first), the stale
  // read in the usual story; either cannot be linearized with the other.
  const callOf = (write: number | null): number => (write === null ? -Infinity : (operations[write] as TimedOperation).call);
  const violation: Violation = {
    operation: callOf(firstWrite) < callOf(writeOfOperation(y)) ? v : y,
    reason: `${orderOf(x, y)}, but ${orderOf(u, v)}; each value is written once`,
  };
  // A cycle of two write-order steps when each chain is one cluster; longer chains would need
  // their swaps spelled out, and the reason says enough.
  if ((chains[first] as number[]).length === 1 && (chains[second] as number[]).length === 1) {
    const step = (before: number | null, after: number | null, earlier: number, later: number): PrecedenceStep =>
      earlier === -1 ? { before, after, because: "write-order" } : { before, after, because: "write-order", evidence: [earlier, later] };
    violation.cycle = [step(firstWrite, writeOfOperation(y), x, y), step(writeOfOperation(y), firstWrite, u, v)];
  }
  return violation;
}

function valueOf(operations: readonly TimedOperation[], write: number | null): string {
  if (write === null) {
    return "absent";
  }
  const { input } = operations[write] as TimedOperation;
  return JSON.stringify(input.f === "cas" ? (input.value as [string | null, string])[1] : input.value);
}

function nameOf(operations: readonly TimedOperation[], index: number): string {
  const { input, outcome } = operations[index] as TimedOperation;
  const result = outcome.known ? JSON.stringify(outcome.value) : "?";
  return input.f === "get" ? `get -> ${result}` : `${input.f} ${JSON.stringify(input.value)}`;
}

/** Chains by min(low, high), clusters in chain order, each as its write then its gets by call. */
function coreOrder(operations: readonly TimedOperation[], mapping: ReadMapping, chains: readonly number[][], bounds: ClusterBounds): number[] {
  const ends = chainEnds(chains, bounds);
  const start = (chain: number): number => Math.min(ends.low[chain] as number, ends.high[chain] as number);
  const chainOrder = Array.from(chains.keys()).sort((first, second) => start(first) - start(second) || first - second);
  // The gets of each cluster, by call (operations come in call order): a counting sort by cluster.
  const { clusterOf, writeOf } = mapping;
  const readsStart = new Int32Array(writeOf.length + 1);
  for (let index = 0; index < operations.length; index += 1) {
    const cluster = clusterOf[index] as number;
    if (cluster !== -1 && writeOf[cluster] !== index) {
      readsStart[cluster + 1] = (readsStart[cluster + 1] as number) + 1;
    }
  }
  for (let cluster = 0; cluster < writeOf.length; cluster += 1) {
    readsStart[cluster + 1] = (readsStart[cluster + 1] as number) + (readsStart[cluster] as number);
  }
  const reads = new Int32Array(readsStart[writeOf.length] as number);
  const filled = readsStart.slice(0, writeOf.length);
  for (let index = 0; index < operations.length; index += 1) {
    const cluster = clusterOf[index] as number;
    if (cluster !== -1 && writeOf[cluster] !== index) {
      reads[filled[cluster] as number] = index;
      filled[cluster] = (filled[cluster] as number) + 1;
    }
  }
  const order: number[] = [];
  for (const chain of chainOrder) {
    for (const cluster of chains[chain] as number[]) {
      const write = writeOf[cluster] as number | null;
      if (write !== null) {
        order.push(write);
      }
      const clusterReads = reads.subarray(readsStart[cluster] as number, readsStart[cluster + 1] as number);
      clusterReads.sort((first, second) => (operations[first] as TimedOperation).call - (operations[second] as TimedOperation).call);
      for (const read of clusterReads) {
        order.push(read);
      }
    }
  }
  return order;
}
