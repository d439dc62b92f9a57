// Places the misses (ok cas operations that returned false: they read a value other than the one
// they expected, and change nothing) into a linearization of the rest of a kv history: each at the
// earliest gap that its real-time window and the misses placed before it allow, where the value is
// not the one it expected. Misses are placed in call order; a miss that returned before another
// was called is placed no later, so the earliest choice leaves the most room to the ones after it.
// Null when some miss fits nowhere in this order (another order might fit it: the caller searches).
import type { TimedOperation } from "../api.js";
import { initialCluster, type ReadMapping } from "./read-mapping.js";

/**
 * `core`: a linearization of the history without its misses and omitted operations, each cluster
 * contiguous. Returns it with the misses inserted, or null.
 */
export function placeMisses(operations: readonly TimedOperation[], mapping: ReadMapping, core: number[]): number[] | null {
  const misses = [...mapping.misses].sort((first, second) => (operations[first] as TimedOperation).call - (operations[second] as TimedOperation).call);
  if (misses.length === 0) {
    return core;
  }
  // A gap g is the point after core[g] (g = -1: before everything, the initial state).
  const clusterAtGap = (gap: number): number => (gap === -1 ? initialCluster : (mapping.clusterOf[core[gap] as number] as number));
  const lastPosition = new Map<number, number>();
  core.forEach((index, position) => lastPosition.set(mapping.clusterOf[index] as number, position));
  const byReturn = positionsSortedBy(operations, core, "ret");
  const byCall = positionsSortedBy(operations, core, "call");
  // Latest core position returned before a time, and earliest core position called after one.
  const latestReturnedBefore = prefixMaxima(byReturn.positions);
  const earliestCalledAfter = suffixMinima(byCall.positions);
  const missesByReturn = [...misses].sort((first, second) => (operations[first] as TimedOperation).ret - (operations[second] as TimedOperation).ret);
  const gapOf = new Map<number, number>();
  let returnedCursor = 0;
  let returnedGapMax = -1;
  const inserted: number[][] = Array.from({ length: core.length + 1 }, () => []);
  for (const miss of misses) {
    const { call, ret, input } = operations[miss] as TimedOperation;
    // Misses that returned before this one was called were all called earlier: placed already.
    while (returnedCursor < missesByReturn.length && (operations[missesByReturn[returnedCursor] as number] as TimedOperation).ret < call) {
      returnedGapMax = Math.max(returnedGapMax, gapOf.get(missesByReturn[returnedCursor] as number) as number);
      returnedCursor += 1;
    }
    const returnedBefore = countBelow(byReturn.times, call);
    let gap = Math.max(returnedGapMax, returnedBefore === 0 ? -1 : (latestReturnedBefore[returnedBefore - 1] as number));
    const calledAfter = countAtMost(byCall.times, ret);
    const gapLimit = calledAfter === core.length ? core.length - 1 : (earliestCalledAfter[calledAfter] as number) - 1;
    const expected = (input.value as [string | null, string])[0];
    const forbidden = clusterOfValue(operations, mapping, expected);
    if (forbidden !== -1 && clusterAtGap(gap) === forbidden) {
      // The first gap after the value's cluster: after the write that replaced it.
      gap = (lastPosition.get(forbidden) ?? -1) + 1;
    }
    if (gap > gapLimit || (forbidden !== -1 && clusterAtGap(gap) === forbidden)) {
      return null;
    }
    gapOf.set(miss, gap);
    (inserted[gap + 1] as number[]).push(miss);
  }
  const order: number[] = [...(inserted[0] as number[])];
  core.forEach((index, position) => {
    order.push(index, ...(inserted[position + 1] as number[]));
  });
  return order;
}

/** The cluster of `value` when it was ever current (-1: never, so a miss expecting it fits anywhere). */
function clusterOfValue(operations: readonly TimedOperation[], mapping: ReadMapping, value: string | null): number {
  if (value === null) {
    return initialCluster;
  }
  const writer = mapping.writerOfValue.get(value);
  return writer === undefined ? -1 : (mapping.clusterOf[writer] as number);
}

function positionsSortedBy(
  operations: readonly TimedOperation[],
  core: readonly number[],
  field: "call" | "ret",
): { times: Float64Array; positions: Int32Array } {
  const positions = Int32Array.from(core.keys());
  positions.sort(
    (first, second) => (operations[core[first] as number] as TimedOperation)[field] - (operations[core[second] as number] as TimedOperation)[field],
  );
  return { times: Float64Array.from(positions, (position) => (operations[core[position] as number] as TimedOperation)[field]), positions };
}

function prefixMaxima(values: Int32Array): Int32Array {
  const maxima = new Int32Array(values.length);
  let maximum = -1;
  values.forEach((value, index) => {
    maximum = Math.max(maximum, value);
    maxima[index] = maximum;
  });
  return maxima;
}

function suffixMinima(values: Int32Array): Int32Array {
  const minima = new Int32Array(values.length);
  let minimum = values.length;
  for (let index = values.length - 1; index >= 0; index -= 1) {
    minimum = Math.min(minimum, values[index] as number);
    minima[index] = minimum;
  }
  return minima;
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

/** How many of the sorted values are at most `limit`. */
function countAtMost(sorted: Float64Array, limit: number): number {
  let lowest = 0;
  let highest = sorted.length;
  while (lowest < highest) {
    const middle = (lowest + highest) >>> 1;
    if ((sorted[middle] as number) <= limit) {
      lowest = middle + 1;
    } else {
      highest = middle;
    }
  }
  return lowest;
}
