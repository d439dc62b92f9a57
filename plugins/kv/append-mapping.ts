// The read-mapping of a kv history of puts, gets and appends on one key (an append concatenates its
// value to the key's string): a read's value, cut into the put value it starts with and the
// appended values after it, names the writes it saw and their order. An append is then a swap
// (see read-mapping.ts) from the state before it to its own: the register's chain reasoning
// orders the writes and their reads. A value written more than once is given to its writes by a
// heuristic (the earliest called that fits the reads' and the previous write's times).
//
// A cut is used only when it is the value's only one. Whatever the cuts say, the caller uses the
// order found only as a candidate that replays() verifies (the model's steps and real time), and
// searches otherwise: no verdict rests on this file alone.
import type { TimedOperation } from "../api.js";
import { initialCluster, type ReadMapping } from "./read-mapping.js";

/** Writes of one value at most (each slot of the value scans them). */
const writersOfValueMax = 256;
const putBit = 1;
const appendBit = 2;

/** Distinct lengths of written values at most: cutting a read tries each at every position. */
const valueLengthsMax = 64;

export interface AppendMapping {
  mapping: ReadMapping;
  /** Ok appends no read saw: their predecessor is unknown (see placeUnseen). */
  unseen: number[];
}

/** Null when the history is not one this covers, or a read's value has no single cut. */
export function appendMappingOf(operations: readonly TimedOperation[]): AppendMapping | null {
  const count = operations.length;
  const key = operations[0]?.input.key;
  if (typeof key !== "string") {
    return null;
  }
  // Who wrote each value decides where a cut may use it: a put's only first.
  const kindOfValue = new Map<string, number>();
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
    if ((input.f !== "put" && input.f !== "append") || typeof input.value !== "string" || input.value === "" || (outcome.known && outcome.value !== null)) {
      return null;
    }
    kindOfValue.set(input.value, (kindOfValue.get(input.value) ?? 0) | (input.f === "put" ? putBit : appendBit));
  }
  const valueLengths = [...new Set([...kindOfValue.keys()].map((value) => value.length))];
  if (valueLengths.length > valueLengthsMax) {
    return null;
  }
  // The writes the reads saw, as a trie of their cuts: a slot is one write in a state's history,
  // named by the slot before it and its value (a value written twice is two slots when the
  // cuts place it apart). Slot 0 is the initial state, 1 the root that puts hang from.
  const slotOf = new Map<string, number>();
  const slotValue: string[] = ["", ""];
  const slotParent: number[] = [-1, -1];
  // Per slot: the earliest return of a read that saw it (so its write was called before).
  const slotDeadline: number[] = [-Infinity, -Infinity];
  const readSlot = new Int32Array(count).fill(-1);
  for (let index = 0; index < count; index += 1) {
    const { input, outcome } = operations[index] as TimedOperation;
    if (input.f !== "get" || !outcome.known) {
      continue;
    }
    if (outcome.value === null) {
      readSlot[index] = 0;
      continue;
    }
    const values = cut(outcome.value as string, kindOfValue, valueLengths);
    if (values === null) {
      return null;
    }
    // A first value that a put wrote is taken as the put's (the candidate is verified anyway).
    let slot = ((kindOfValue.get(values[0] as string) as number) & putBit) !== 0 ? 1 : 0;
    for (const value of values) {
      const name = `${slot}:${value}`;
      let next = slotOf.get(name);
      if (next === undefined) {
        next = slotValue.length;
        slotOf.set(name, next);
        slotValue.push(value);
        slotParent.push(slot);
        slotDeadline.push(Infinity);
      }
      slotDeadline[next] = Math.min(slotDeadline[next] as number, operations[index]?.ret ?? Infinity);
      slot = next;
    }
    readSlot[index] = slot;
  }
  return clustersOf(operations, { value: slotValue, parent: slotParent, deadline: slotDeadline }, readSlot);
}

interface Slots {
  value: string[];
  parent: number[];
  deadline: number[];
}

/**
 * Gives each slot a write of its value (a heuristic where a value was written twice: the order it
 * leads to is verified), and builds the register's clusters: one per write, chained as the slots.
 */
function clustersOf(operations: readonly TimedOperation[], slots: Slots, readSlot: Int32Array): AppendMapping | null {
  const count = operations.length;
  // Writers of each value, by call.
  // Both keyed by the kind of write and its value: "put:v", "append:v".
  const writersOfValue = new Map<string, number[]>();
  for (let index = 0; index < count; index += 1) {
    const { input } = operations[index] as TimedOperation;
    if (input.f !== "get") {
      const name = `${input.f}:${input.value as string}`;
      const writers = writersOfValue.get(name) ?? [];
      writers.push(index);
      writersOfValue.set(name, writers);
    }
  }
  // Slots in creation order, so each one's parent has its write already. A slot's write must be
  // called before a read saw it (its deadline) and return after its parent's write was called.
  const writerOfSlot = new Int32Array(slots.value.length).fill(-1);
  const slotOfWriter = new Int32Array(count).fill(-1);
  for (let slot = 2; slot < slots.value.length; slot += 1) {
    const parent = slots.parent[slot] as number;
    const writers = writersOfValue.get(`${parent === 1 ? "put" : "append"}:${slots.value[slot] as string}`) ?? [];
    if (writers.length > writersOfValueMax) {
      return null;
    }
    const parentWriter = parent <= 1 ? -1 : (writerOfSlot[parent] as number);
    const notBefore = parentWriter === -1 ? -Infinity : (operations[parentWriter] as TimedOperation).call;
    const deadline = slots.deadline[slot] as number;
    let chosen = -1;
    for (const writer of writers) {
      if (slotOfWriter[writer] !== -1) {
        continue;
      }
      const { call, ret } = operations[writer] as TimedOperation;
      if (chosen === -1) {
        chosen = writer;
      }
      if (call < deadline && ret > notBefore) {
        chosen = writer;
        break;
      }
    }
    if (chosen === -1) {
      return null; // more writes seen than made: the search finds the violation
    }
    writerOfSlot[slot] = chosen;
    slotOfWriter[chosen] = slot;
  }
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
    } else if (slotOfWriter[index] !== -1 || (outcome.known && input.f === "put")) {
      clusterOf[index] = writeOf.length;
      writeOf.push(index);
    } else if (outcome.known) {
      unseen.push(index);
    } else {
      omit.push(index);
    }
  }
  const clusterOfSlot = (slot: number): number => (slot === 0 ? initialCluster : (clusterOf[writerOfSlot[slot] as number] as number));
  const predecessorOf = new Int32Array(writeOf.length).fill(-1);
  const successorOf = new Int32Array(writeOf.length).fill(-1);
  for (let slot = 2; slot < slots.value.length; slot += 1) {
    const parent = slots.parent[slot] as number;
    if (parent === 1) {
      continue; // a put: the head of its chain
    }
    const from = clusterOfSlot(parent);
    const to = clusterOfSlot(slot);
    if (successorOf[from] !== -1) {
      return null; // two appends extended the same state: the search decides
    }
    successorOf[from] = to;
    predecessorOf[to] = from;
  }
  for (let index = 0; index < count; index += 1) {
    if (readSlot[index] !== -1) {
      clusterOf[index] = clusterOfSlot(readSlot[index] as number);
    }
  }
  return { mapping: { clusterOf, writeOf, predecessorOf, successorOf, misses: [], omit, writerOfValue: new Map() }, unseen };
}

/**
 * The written values that make up `value` in order: a put's (first only) or appends', or null
 * when there is no such cut or more than one.
 */
function cut(value: string, kindOfValue: ReadonlyMap<string, number>, valueLengths: readonly number[]): string[] | null {
  // ways[i]: cuts of value[0..i), 2 meaning "several"; lastLength[i]: the length of the value ending one.
  const ways = new Uint8Array(value.length + 1);
  const lastLength = new Int32Array(value.length + 1);
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
      const kind = kindOfValue.get(value.slice(start, end));
      if (kind === undefined || (start !== 0 && (kind & appendBit) === 0)) {
        continue;
      }
      ways[end] = Math.min(2, (ways[end] as number) + waysHere);
      lastLength[end] = length;
    }
  }
  if (ways[value.length] !== 1) {
    return null;
  }
  // One cut in all: every position on it has one cut too, so lastLength walks it back.
  const values: string[] = [];
  for (let end = value.length; end > 0; end -= lastLength[end] as number) {
    values.push(value.slice(end - (lastLength[end] as number), end));
  }
  return values.reverse();
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

/**
 * Inserts the appends no read saw into `order` where they change no read: right before a put,
 * or at the end, at the first such gap that their real-time window allows (by call). The result
 * is a candidate for replays() to verify.
 */
export function placeUnseen(operations: readonly TimedOperation[], order: readonly number[], unseen: readonly number[]): number[] {
  if (unseen.length === 0) {
    return [...order];
  }
  // Latest call before each gap and earliest return after it.
  const latestCallBefore = new Float64Array(order.length + 1).fill(-Infinity);
  const earliestReturnFrom = new Float64Array(order.length + 1).fill(Infinity);
  order.forEach((index, position) => {
    latestCallBefore[position + 1] = Math.max(latestCallBefore[position] as number, (operations[index] as TimedOperation).call);
  });
  for (let position = order.length - 1; position >= 0; position -= 1) {
    earliestReturnFrom[position] = Math.min(earliestReturnFrom[position + 1] as number, (operations[order[position] as number] as TimedOperation).ret);
  }
  const gaps: number[] = [];
  order.forEach((index, position) => {
    if ((operations[index] as TimedOperation).input.f === "put") {
      gaps.push(position);
    }
  });
  gaps.push(order.length);
  const inserted = Array.from({ length: order.length + 1 }, (): number[] => []);
  const byCall = [...unseen].sort((first, second) => (operations[first] as TimedOperation).call - (operations[second] as TimedOperation).call);
  for (const index of byCall) {
    const { call, ret } = operations[index] as TimedOperation;
    const gap = gaps.find((position) => (latestCallBefore[position] as number) < ret && (earliestReturnFrom[position] as number) > call) ?? order.length;
    (inserted[gap] as number[]).push(index);
  }
  const placed: number[] = [];
  for (let position = 0; position <= order.length; position += 1) {
    placed.push(...(inserted[position] as number[]));
    if (position < order.length) {
      placed.push(order[position] as number);
    }
  }
  return placed;
}
