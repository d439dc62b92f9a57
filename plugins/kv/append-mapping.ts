// The read-mapping of a kv history of puts, gets and appends on one key (an append concatenates its
// value to the key's string): a read's value, cut into the put value it starts with and the
// appended values after it, names the writes it saw and their order. With every written value
// unique, an append is then a swap (see read-mapping.ts) from the state before it to its own: the
// register's chain reasoning orders the writes and their reads.
//
// A cut is used only when it is the value's only one. Whatever the cuts say, the caller uses the
// order found only as a candidate that replays() verifies (the model's steps and real time), and
// searches otherwise: no verdict rests on this file alone.
import type { TimedOperation } from "../api.js";
import { initialCluster, type ReadMapping } from "./read-mapping.js";

/** Distinct lengths of written values at most: cutting a read tries each at every position. */
const valueLengthsMax = 64;

export interface AppendMapping {
  mapping: ReadMapping;
  /** Ok appends no read saw: their predecessor is unknown, so the candidate places them last. */
  unseen: number[];
}

/** Null when the history is not one this covers, or a read's value has no single cut. */
export function appendMappingOf(operations: readonly TimedOperation[]): AppendMapping | null {
  const count = operations.length;
  const key = operations[0]?.input.key;
  if (typeof key !== "string") {
    return null;
  }
  const writerOfValue = new Map<string, number>();
  const lengths = new Set<number>();
  for (let index = 0; index < count; index += 1) {
    const { input, outcome } = operations[index] as TimedOperation;
    if (input.key !== key) {
      return null;
    }
    if (input.f === "get") {
      if ((input.value !== null && input.value !== undefined) || (outcome.known && outcome.value !== null && typeof outcome.value !== "string")) {
        return null;
      }
      continue;
    }
    if ((input.f !== "put" && input.f !== "append") || typeof input.value !== "string" || input.value === "" || writerOfValue.has(input.value)) {
      return null;
    }
    if (outcome.known && outcome.value !== null) {
      return null;
    }
    writerOfValue.set(input.value, index);
    lengths.add(input.value.length);
  }
  if (lengths.size > valueLengthsMax) {
    return null;
  }
  const valueLengths = [...lengths];
  // Per write: the write whose state it extends (-1: the initial state), -2 while unknown.
  const predecessor = new Int32Array(count).fill(-2);
  const effective = new Uint8Array(count);
  const readCluster = new Int32Array(count).fill(-1);
  for (let index = 0; index < count; index += 1) {
    const { input, outcome } = operations[index] as TimedOperation;
    if (input.f !== "get") {
      // Ok writes took effect; one of unknown outcome did when a read saw it (maybe a later one).
      if (outcome.known) {
        effective[index] = 1;
      }
      continue;
    }
    if (!outcome.known || outcome.value === null) {
      continue;
    }
    const writes = cut(outcome.value as string, operations, writerOfValue, valueLengths);
    if (writes === null) {
      return null;
    }
    let before = -1;
    for (const write of writes) {
      effective[write] = 1;
      if ((operations[write] as TimedOperation).input.f === "append") {
        const known = predecessor[write] as number;
        if (known !== -2 && known !== before) {
          return null;
        }
        predecessor[write] = before;
      }
      before = write;
    }
    readCluster[index] = before;
  }
  return clustersOf(operations, predecessor, effective, readCluster, writerOfValue);
}

function clustersOf(
  operations: readonly TimedOperation[],
  predecessor: Int32Array,
  effective: Uint8Array,
  readCluster: Int32Array,
  writerOfValue: ReadonlyMap<string, number>,
): AppendMapping | null {
  const count = operations.length;
  const clusterOf = new Int32Array(count).fill(-1);
  const writeOf: (number | null)[] = [null];
  const omit: number[] = [];
  const unseen: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const { input, outcome } = operations[index] as TimedOperation;
    if (input.f === "get") {
      if (!outcome.known) {
        omit.push(index);
      }
    } else if (effective[index] === 0) {
      omit.push(index);
    } else if (input.f === "append" && predecessor[index] === -2) {
      unseen.push(index);
    } else {
      clusterOf[index] = writeOf.length;
      writeOf.push(index);
    }
  }
  const clusterOfWrite = (write: number): number => (write === -1 ? initialCluster : (clusterOf[write] as number));
  const predecessorOf = new Int32Array(writeOf.length).fill(-1);
  const successorOf = new Int32Array(writeOf.length).fill(-1);
  for (let cluster = 1; cluster < writeOf.length; cluster += 1) {
    const write = writeOf[cluster] as number;
    if ((operations[write] as TimedOperation).input.f !== "append") {
      continue;
    }
    const from = clusterOfWrite(predecessor[write] as number);
    if (successorOf[from] !== -1) {
      return null; // two appends extended the same state: the search decides
    }
    successorOf[from] = cluster;
    predecessorOf[cluster] = from;
  }
  for (let index = 0; index < count; index += 1) {
    const { input, outcome } = operations[index] as TimedOperation;
    if (input.f === "get" && outcome.known) {
      clusterOf[index] = clusterOfWrite(readCluster[index] as number);
    }
  }
  return { mapping: { clusterOf, writeOf, predecessorOf, successorOf, misses: [], omit, writerOfValue }, unseen };
}

/**
 * The writes whose values make up `value` in order: a put's (first only) or appends', or null
 * when there is no such cut or more than one.
 */
function cut(
  value: string,
  operations: readonly TimedOperation[],
  writerOfValue: ReadonlyMap<string, number>,
  valueLengths: readonly number[],
): number[] | null {
  // ways[i]: cuts of value[0..i), 2 meaning "several"; lastWrite[i]: the write ending one of them.
  const ways = new Uint8Array(value.length + 1);
  const lastWrite = new Int32Array(value.length + 1).fill(-1);
  ways[0] = 1;
  for (let start = 0; start < value.length; start += 1) {
    const waysHere = ways[start] as number;
    if (waysHere === 0) {
      continue;
    }
    for (const length of valueLengths) {
      const end = start + length;
      if (end > value.length) {
        continue;
      }
      const write = writerOfValue.get(value.slice(start, end));
      if (write === undefined || (start !== 0 && (operations[write] as TimedOperation).input.f !== "append")) {
        continue;
      }
      ways[end] = Math.min(2, (ways[end] as number) + waysHere);
      lastWrite[end] = write;
    }
  }
  if (ways[value.length] !== 1) {
    return null;
  }
  // One cut in all: every position on it has one cut too, so lastWrite walks it back.
  const writes: number[] = [];
  for (let end = value.length; end > 0;) {
    const write = lastWrite[end] as number;
    writes.push(write);
    end -= ((operations[write] as TimedOperation).input.value as string).length;
  }
  return writes.reverse();
}

/**
 * Whether `order` is a linearization of the history: every ok operation once, real-time order
 * kept, each step legal for a kv key of puts, gets and appends.
 */
export function replays(operations: readonly TimedOperation[], order: readonly number[]): boolean {
  const placed = new Uint8Array(operations.length);
  let state: string | null = null;
  for (const index of order) {
    const { input, outcome } = operations[index] as TimedOperation;
    if (placed[index] === 1) {
      return false;
    }
    placed[index] = 1;
    if (input.f === "get") {
      if (outcome.known && outcome.value !== state) {
        return false;
      }
    } else {
      const value = input.value as string;
      state = input.f === "put" || state === null ? value : state + value;
    }
  }
  let earliestLaterReturn = Infinity;
  for (let position = order.length - 1; position >= 0; position -= 1) {
    const operation = operations[order[position] as number] as TimedOperation;
    if (operation.call > earliestLaterReturn) {
      return false;
    }
    earliestLaterReturn = Math.min(earliestLaterReturn, operation.ret);
  }
  return operations.every((operation, index) => !operation.outcome.known || placed[index] === 1);
}
