// Decides a kv history of gets and puts on one key whose written values are unique (raftlab's
// generator writes unique values) without a search, in O(n log n): with unique values every read
// names the write it saw (Gibbons & Korach's register with a known read-mapping), and that fixes
// the linearization up to an order of "clusters". Any other history (cas, append, delete, a value
// written twice, several keys in one partition, a malformed operation) is searched as it is.
//
// Terms: the cluster of a write is the write and the ok gets that returned its value; the gets
// that returned null (absent) form the cluster of the initial state, whose "write" comes before
// everything. x < y is real-time order (x returned before y was called); a cluster's `low` is the
// earliest return of its operations and its `high` the latest call.
//
// In a linearization each cluster is contiguous: its write, then its reads (a read between two
// writes sees the first, and no value is written twice). So the history is linearizable iff
//   1. no read returns before its write is called (read-from against real time), and
//   2. the clusters can be ordered so that x < y implies cluster(x) before cluster(y), that is,
//      no two clusters C, D have low(C) < high(D) and low(D) < high(C): then some x in C returned
//      before some y in D was called and some u in D returned before some v in C was called.
// (2) is a cycle of two "write-order" steps; a longer cycle of such steps always contains one of
// two, since the relation compares one end of each cluster with one end of the other. When both
// hold, ordering the clusters by min(low, high), and each cluster's reads by call, is a
// linearization; the checker verifies it by stepping the model, so a bug here cannot make a
// wrong "ok". That the violations are exact is what checker/differential.test.ts proves against
// brute force.
//
// Omitted: gets of unknown outcome (they change nothing) and puts of unknown outcome whose value
// no ok get returned (dropping one from a linearization changes no read: none saw its value).
import type { HistoryPreparation, PrecedenceStep, TimedOperation } from "../api.js";

/** The initial state's cluster: its "write" is no operation. */
const initialCluster = 0;

export function prepareKvHistory(operations: readonly TimedOperation[]): HistoryPreparation {
  const count = operations.length;
  if (count === 0) {
    return {};
  }
  const key = operations[0]?.input.key;
  // Cluster ids: 0 is the initial state's, then one per put in operation order.
  const clusterOf = new Int32Array(count).fill(-1);
  const writeOfCluster: (number | null)[] = [null];
  const clusterOfValue = new Map<string, number>();
  for (let index = 0; index < count; index += 1) {
    const { input } = operations[index] as TimedOperation;
    if (input.key !== key || typeof key !== "string") {
      return {};
    }
    if (input.f === "put") {
      if (typeof input.value !== "string" || clusterOfValue.has(input.value)) {
        return {};
      }
      clusterOf[index] = writeOfCluster.length;
      clusterOfValue.set(input.value, writeOfCluster.length);
      writeOfCluster.push(index);
    } else if (input.f !== "get" || (input.value !== null && input.value !== undefined)) {
      return {};
    }
  }
  const clusterCount = writeOfCluster.length;
  const readCount = new Int32Array(clusterCount);
  const omit: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const { input, outcome } = operations[index] as TimedOperation;
    if (input.f === "put" && outcome.known && outcome.value !== null) {
      return { violation: { operation: index, reason: `a put returns null, not ${JSON.stringify(outcome.value)}` } };
    }
    if (input.f !== "get") {
      continue;
    }
    if (!outcome.known) {
      omit.push(index);
      continue;
    }
    const value = outcome.value;
    const cluster = value === null ? initialCluster : typeof value === "string" ? clusterOfValue.get(value) : undefined;
    if (cluster === undefined) {
      return { violation: { operation: index, reason: `it read ${JSON.stringify(value)}, which no operation wrote` } };
    }
    clusterOf[index] = cluster;
    readCount[cluster] = (readCount[cluster] as number) + 1;
  }
  for (let cluster = 1; cluster < clusterCount; cluster += 1) {
    const write = writeOfCluster[cluster] as number;
    if (!(operations[write] as TimedOperation).outcome.known && readCount[cluster] === 0) {
      omit.push(write);
      clusterOf[write] = -1;
    }
  }
  const readBeforeWrite = findReadBeforeWrite(operations, clusterOf, writeOfCluster);
  if (readBeforeWrite !== undefined) {
    return { omit, violation: readBeforeWrite };
  }
  const bounds = clusterBounds(operations, clusterOf, clusterCount);
  const conflict = findConflict(bounds, clusterCount);
  if (conflict !== undefined) {
    return { omit, violation: describeConflict(operations, writeOfCluster, bounds, conflict) };
  }
  return { omit, linearization: linearizationOf(operations, clusterOf, writeOfCluster, bounds) };
}

/** Per cluster: `low`, the earliest return, and `high`, the latest call, of its operations; and its extreme operations. */
interface ClusterBounds {
  low: Float64Array;
  high: Float64Array;
  lowOperation: Int32Array;
  highOperation: Int32Array;
  /** Whether the cluster has any operation (an omitted write with no reads has none). */
  used: Uint8Array;
}

function clusterBounds(operations: readonly TimedOperation[], clusterOf: Int32Array, clusterCount: number): ClusterBounds {
  const bounds: ClusterBounds = {
    low: new Float64Array(clusterCount).fill(Infinity),
    high: new Float64Array(clusterCount).fill(-Infinity),
    lowOperation: new Int32Array(clusterCount).fill(-1),
    highOperation: new Int32Array(clusterCount).fill(-1),
    used: new Uint8Array(clusterCount),
  };
  // The initial state's "write" returned before anything was called.
  bounds.low[initialCluster] = -Infinity;
  for (let index = 0; index < operations.length; index += 1) {
    const cluster = clusterOf[index] as number;
    if (cluster === -1) {
      continue;
    }
    const { call, ret } = operations[index] as TimedOperation;
    bounds.used[cluster] = 1;
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

/** A read that returned before the write of its value was called. */
function findReadBeforeWrite(
  operations: readonly TimedOperation[],
  clusterOf: Int32Array,
  writeOfCluster: readonly (number | null)[],
): HistoryPreparation["violation"] {
  for (let index = 0; index < operations.length; index += 1) {
    const operation = operations[index] as TimedOperation;
    const cluster = clusterOf[index] as number;
    const write = cluster === -1 ? null : (writeOfCluster[cluster] as number | null);
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

/**
 * Two clusters C and D with low(C) < high(D) and low(D) < high(C), if any: clusters sorted by
 * low, and for each D the cluster of largest high among those with low below high(D) (the best
 * two, so that D itself can be skipped).
 */
function findConflict(bounds: ClusterBounds, clusterCount: number): [number, number] | undefined {
  const { low, high, used } = bounds;
  const byLow: number[] = [];
  for (let cluster = 0; cluster < clusterCount; cluster += 1) {
    if (used[cluster] === 1) {
      byLow.push(cluster);
    }
  }
  byLow.sort((first, second) => (low[first] as number) - (low[second] as number) || first - second);
  const sortedLow = Float64Array.from(byLow, (cluster) => low[cluster] as number);
  // Prefix k (the first k clusters by low): the largest high and its cluster, and the largest
  // high among the others.
  const bestCluster = new Int32Array(byLow.length + 1).fill(-1);
  const secondCluster = new Int32Array(byLow.length + 1).fill(-1);
  for (let position = 0; position < byLow.length; position += 1) {
    const cluster = byLow[position] as number;
    let best = bestCluster[position] as number;
    let second = secondCluster[position] as number;
    if (best === -1 || (high[cluster] as number) > (high[best] as number)) {
      second = best;
      best = cluster;
    } else if (second === -1 || (high[cluster] as number) > (high[second] as number)) {
      second = cluster;
    }
    bestCluster[position + 1] = best;
    secondCluster[position + 1] = second;
  }
  for (const cluster of byLow) {
    const prefix = countBelow(sortedLow, high[cluster] as number);
    const best = bestCluster[prefix] as number;
    const other = best === cluster ? (secondCluster[prefix] as number) : best;
    if (other !== -1 && (high[other] as number) > (low[cluster] as number)) {
      return [other, cluster];
    }
  }
  return undefined;
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
  writeOfCluster: readonly (number | null)[],
  bounds: ClusterBounds,
  [first, second]: [number, number],
): NonNullable<HistoryPreparation["violation"]> {
  // x in `first` returned before y in `second` was called, and u in `second` before v in `first`
  // (x or u is -1 for the initial state's cluster, which comes first without any evidence).
  const x = bounds.lowOperation[first] as number;
  const y = bounds.highOperation[second] as number;
  const u = bounds.lowOperation[second] as number;
  const v = bounds.highOperation[first] as number;
  const firstWrite = writeOfCluster[first] as number | null;
  const secondWrite = writeOfCluster[second] as number | null;
  const step = (before: number | null, after: number | null, earlier: number, later: number): PrecedenceStep =>
    earlier === -1 ? { before, after, because: "write-order" } : { before, after, because: "write-order", evidence: [earlier, later] };
  const valueOf = (write: number | null): string =>
    write === null ? "absent" : JSON.stringify((operations[write] as TimedOperation).input.value);
  const nameOf = (index: number): string => {
    const { input, outcome } = operations[index] as TimedOperation;
    return input.f === "put" ? `put ${JSON.stringify(input.value)}` : `get -> ${outcome.known ? JSON.stringify(outcome.value) : "?"}`;
  };
  const orderOf = (before: number | null, after: number | null, earlier: number, later: number): string =>
    earlier === -1
      ? `${valueOf(before)} came first (the initial state)`
      : `${valueOf(before)} came before ${valueOf(after)} (${nameOf(earlier)} returned before ${nameOf(later)} was called)`;
  return {
    // The later-called of the two operations that saw their value too late.
    operation: (operations[y] as TimedOperation).call > (operations[v] as TimedOperation).call ? y : v,
    reason: `${orderOf(firstWrite, secondWrite, x, y)}, but ${orderOf(secondWrite, firstWrite, u, v)}; each value is written once`,
    cycle: [step(firstWrite, secondWrite, x, y), step(secondWrite, firstWrite, u, v)],
  };
}

/** Clusters by min(low, high), each as its write then its reads by call. */
function linearizationOf(
  operations: readonly TimedOperation[],
  clusterOf: Int32Array,
  writeOfCluster: readonly (number | null)[],
  bounds: ClusterBounds,
): number[] {
  const { low, high, used } = bounds;
  const order: number[] = [];
  const clusters: number[] = [];
  for (let cluster = 0; cluster < writeOfCluster.length; cluster += 1) {
    if (used[cluster] === 1) {
      clusters.push(cluster);
    }
  }
  const start = (cluster: number): number => Math.min(low[cluster] as number, high[cluster] as number);
  clusters.sort((first, second) => start(first) - start(second) || first - second);
  const readsOf = new Map<number, number[]>();
  for (let index = 0; index < operations.length; index += 1) {
    const cluster = clusterOf[index] as number;
    if (cluster !== -1 && writeOfCluster[cluster] !== index) {
      let reads = readsOf.get(cluster);
      if (reads === undefined) {
        reads = [];
        readsOf.set(cluster, reads);
      }
      reads.push(index);
    }
  }
  for (const cluster of clusters) {
    const write = writeOfCluster[cluster] as number | null;
    if (write !== null) {
      order.push(write);
    }
    const reads = readsOf.get(cluster) ?? [];
    reads.sort((first, second) => (operations[first] as TimedOperation).call - (operations[second] as TimedOperation).call);
    order.push(...reads);
  }
  return order;
}
