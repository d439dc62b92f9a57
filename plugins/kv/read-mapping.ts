// The read-mapping of a kv history on one key whose written values are unique: which write each
// read saw, grouped into clusters (a write and the reads of its value) and chains of clusters
// (a cas that swapped value e for n puts n's cluster immediately after e's). See
// prepare-kv-history.ts for what the checker concludes from it.
//
// Operations: put(v); get; cas(e, n) that returned true (a "swap": it read e and wrote n) or false
// (a "miss": it read some value other than e and wrote nothing). An operation of unknown outcome
// is a write only when its value was observed (read by an ok get, or swapped out by a swap that
// took effect): only then must it have taken effect. The others, and gets of unknown outcome, are
// left out of the read-mapping.
import type { HistoryPreparation, TimedOperation } from "../api.js";

/** Cluster 0 is the initial state's (the key absent); its "write" is no operation. */
export const initialCluster = 0;

export interface ReadMapping {
  /** Per operation: its cluster (the write's, or the read value's), or -1 when left out. */
  clusterOf: Int32Array;
  /** Per cluster: its write (null for the initial state's). */
  writeOf: (number | null)[];
  /** Per cluster: the cluster its write's swap came from, or -1 when its write is a put (or initial). */
  predecessorOf: Int32Array;
  /** Per cluster: the cluster of the swap that took its value out, or -1. */
  successorOf: Int32Array;
  /** Ok cas operations that returned false: placed after the rest is linearized. */
  misses: number[];
  /** Left out: gets of unknown outcome and unobserved writes of unknown outcome. */
  omit: number[];
  /** The operation that wrote each value (put or cas, whether or not it took effect). */
  writerOfValue: ReadonlyMap<string, number>;
}

type Kind = "put" | "get" | "cas";

/**
 * The read-mapping, or a violation certain from it alone, or null when the history is not one
 * it covers (another operation, several keys, a value written twice, a malformed operation).
 */
export function readMappingOf(operations: readonly TimedOperation[]): ReadMapping | { violation: NonNullable<HistoryPreparation["violation"]> } | null {
  const count = operations.length;
  const key = operations[0]?.input.key;
  const kinds: Kind[] = [];
  const writerOfValue = new Map<string, number>();
  for (let index = 0; index < count; index += 1) {
    const { input, outcome } = operations[index] as TimedOperation;
    const kind = kindOf(input.f, input.value);
    if (kind === null || input.key !== key || typeof key !== "string") {
      return null;
    }
    kinds.push(kind);
    const written = kind === "put" ? (input.value as string) : kind === "cas" ? (input.value as [string | null, string])[1] : null;
    if (written !== null) {
      if (writerOfValue.has(written)) {
        return null;
      }
      writerOfValue.set(written, index);
    }
    if (!outcome.known) {
      continue;
    }
    if (kind === "put" && outcome.value !== null) {
      return { violation: { operation: index, reason: `a put returns null, not ${JSON.stringify(outcome.value)}` } };
    }
    if (kind === "cas" && typeof outcome.value !== "boolean") {
      return { violation: { operation: index, reason: `a cas returns true or false, not ${JSON.stringify(outcome.value)}` } };
    }
  }
  // Writes that took effect: ok puts and swaps, then, to a fixpoint, writes of unknown outcome
  // whose value an ok get read or a swap that took effect swapped out.
  const effective = new Uint8Array(count);
  // Observations as parallel stacks: the operation that saw a value, and the value.
  const observers: number[] = [];
  const observedValues: string[] = [];
  const omit: number[] = [];
  const misses: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const { input, outcome } = operations[index] as TimedOperation;
    const kind = kinds[index] as Kind;
    if (kind === "get") {
      if (!outcome.known) {
        omit.push(index);
      } else if (outcome.value !== null) {
        if (typeof outcome.value !== "string") {
          return { violation: { operation: index, reason: `it read ${JSON.stringify(outcome.value)}, which no operation wrote` } };
        }
        observers.push(index);
        observedValues.push(outcome.value);
      }
    } else if (outcome.known && (kind === "put" || outcome.value === true)) {
      effective[index] = 1;
      const expected = kind === "cas" ? (input.value as [string | null, string])[0] : null;
      if (expected !== null) {
        observers.push(index);
        observedValues.push(expected);
      }
    } else if (outcome.known) {
      misses.push(index);
    }
  }
  while (observers.length > 0) {
    const observer = observers.pop() as number;
    const value = observedValues.pop() as string;
    const writer = writerOfValue.get(value);
    if (writer === undefined || ((operations[writer] as TimedOperation).outcome.known && effective[writer] === 0)) {
      const what = (operations[observer] as TimedOperation).input.f === "get" ? "it read" : "it swapped out";
      const reason = writer === undefined ? "which no operation wrote" : "which only a cas that returned false would have written";
      return { violation: { operation: observer, reason: `${what} ${JSON.stringify(value)}, ${reason}` } };
    }
    if (effective[writer] === 0) {
      effective[writer] = 1;
      const { input } = operations[writer] as TimedOperation;
      const expected = kinds[writer] === "cas" ? (input.value as [string | null, string])[0] : null;
      if (expected !== null) {
        observers.push(writer);
        observedValues.push(expected);
      }
    }
  }
  return clustersOf(operations, kinds, effective, writerOfValue, omit, misses);
}

function clustersOf(
  operations: readonly TimedOperation[],
  kinds: readonly Kind[],
  effective: Uint8Array,
  writerOfValue: ReadonlyMap<string, number>,
  omit: number[],
  misses: number[],
): ReadMapping | { violation: NonNullable<HistoryPreparation["violation"]> } {
  const count = operations.length;
  const clusterOf = new Int32Array(count).fill(-1);
  const writeOf: (number | null)[] = [null];
  for (let index = 0; index < count; index += 1) {
    if (effective[index] === 1) {
      clusterOf[index] = writeOf.length;
      writeOf.push(index);
    } else if (kinds[index] !== "get" && !(operations[index] as TimedOperation).outcome.known) {
      omit.push(index);
    }
  }
  const clusterOfValue = (value: string | null): number => (value === null ? initialCluster : (clusterOf[writerOfValue.get(value) as number] as number));
  const predecessorOf = new Int32Array(writeOf.length).fill(-1);
  const successorOf = new Int32Array(writeOf.length).fill(-1);
  for (let index = 0; index < count; index += 1) {
    const { input, outcome } = operations[index] as TimedOperation;
    if (kinds[index] === "get" && outcome.known) {
      clusterOf[index] = clusterOfValue(outcome.value as string | null);
    } else if (kinds[index] === "cas" && effective[index] === 1) {
      const from = clusterOfValue((input.value as [string | null, string])[0]);
      const to = clusterOf[index] as number;
      const other = successorOf[from] as number;
      if (other !== -1) {
        const first = writeOf[other] as number;
        return {
          violation: {
            operation: Math.max(first, index),
            reason: `two cas operations both swapped out ${JSON.stringify((input.value as [string | null, string])[0])}, which was written once`,
          },
        };
      }
      successorOf[from] = to;
      predecessorOf[to] = from;
    }
  }
  return { clusterOf, writeOf, predecessorOf, successorOf, misses, omit, writerOfValue };
}

function kindOf(f: string, value: unknown): Kind | null {
  switch (f) {
    case "put":
      return typeof value === "string" ? "put" : null;
    case "get":
      return value === null || value === undefined ? "get" : null;
    case "cas":
      return Array.isArray(value) && value.length === 2 && (value[0] === null || typeof value[0] === "string") && typeof value[1] === "string" ? "cas" : null;
    default:
      return null;
  }
}
