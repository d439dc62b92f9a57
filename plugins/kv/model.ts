// The kv sequential model. The checker partitions histories by key (partitionKey), so a state
// usually holds one key, but a state is a map from key to value all the same: whatever partitioning
// the checker chooses, an operation on one key never sees another key's value. Hot path of the
// checker: a state is an immutable list of cells sorted by key, one per present key, each caching
// its memo key, so a read allocates nothing and a write allocates one cell per key before its own.
import { PluginError, type Json, type Model, type Operation, type Outcome } from "../api.js";
import { describeOperationLine } from "../describe.js";
import { prepareKvHistory } from "./prepare-kv-history.js";

/** One present key and its value, then the present keys after it in key order. */
export interface KvCell {
  readonly key: string;
  readonly value: string;
  readonly next: KvCell | null;
  /** stateKey of the state that starts at this cell, once asked for (a cache, not state). */
  memoKey: string | null;
}

/** The present keys and their values in key order; null when no key is present. */
export type KvModelState = KvCell | null;

export const kvModel: Model<KvModelState> = {
  init: () => null,

  step(state: KvModelState, input: Operation, outcome: Outcome): KvModelState | undefined {
    if (!isWellFormed(input)) {
      // The state machine rejects it (a definite failure), so it has no effect and cannot return ok.
      return outcome.known ? undefined : state;
    }
    const key = input.key as string;
    const current = valueOf(state, key);
    const value = input.value;
    switch (input.f) {
      case "get":
        return outcome.known && outcome.value !== current ? undefined : state;
      case "put":
        return outcome.known && outcome.value !== null ? undefined : withValue(state, key, value as string);
      case "append":
        if (outcome.known && outcome.value !== null) {
          return undefined;
        }
        return withValue(state, key, current === null ? (value as string) : current + (value as string));
      case "cas": {
        const pair = value as [string | null, string];
        const swapped = current === pair[0];
        if (outcome.known && outcome.value !== swapped) {
          return undefined;
        }
        return swapped ? withValue(state, key, pair[1]) : state;
      }
      case "delete":
        return outcome.known && outcome.value !== null ? undefined : withValue(state, key, null);
      default:
        return outcome.known ? undefined : state;
    }
  },

  stateKey: (state: KvModelState): string => (state === null ? "" : memoKeyOf(state)),

  partitionKey(input: Operation): string {
    // A kv operation without a key cannot be placed in any key's partition: bad input.
    if (typeof input.key !== "string") {
      throw new PluginError("BAD_ARGUMENT", `kv operation "${input.f}" has no key (field "key" must be a string)`);
    }
    return input.key;
  },

  describeOperation: describeOperationLine,

  // One key's state reads as its value (reports name the partition's key), several as key=value.
  describeState(state: KvModelState): string {
    if (state === null) {
      return "absent";
    }
    if (state.next === null) {
      return JSON.stringify(state.value);
    }
    const cells: string[] = [];
    for (let cell: KvCell | null = state; cell !== null; cell = cell.next) {
      cells.push(`${JSON.stringify(cell.key)}=${JSON.stringify(cell.value)}`);
    }
    return cells.join(", ");
  },

  prepareHistory: prepareKvHistory,
};

/** A state holding exactly `entries` (tests and reports). */
export function kvStateOf(entries: Readonly<Record<string, string>>): KvModelState {
  let state: KvModelState = null;
  for (const [key, value] of Object.entries(entries)) {
    state = withValue(state, key, value);
  }
  return state;
}

function valueOf(state: KvModelState, key: string): string | null {
  for (let cell = state; cell !== null; cell = cell.next) {
    if (cell.key === key) {
      return cell.value;
    }
  }
  return null;
}

/** The state with `key` set to `value` (null: absent); shares the cells after `key`. */
function withValue(state: KvModelState, key: string, value: string | null): KvModelState {
  if (state === null || key < state.key) {
    return value === null ? state : cellOf(key, value, state);
  }
  if (state.key === key) {
    return value === null ? state.next : cellOf(key, value, state.next);
  }
  return cellOf(state.key, state.value, withValue(state.next, key, value));
}

function cellOf(key: string, value: string, next: KvCell | null): KvCell {
  return { key, value, next, memoKey: null };
}

// Lengths make the memo key injective whatever the keys and values contain: a key's length, then
// the key, then "=" and the value when it is the last cell (the common one-key state), or the
// value's length, "=", the value and the next cells' key. An empty state ("") differs from every
// other. Computed once per cell, when the search first asks.
function memoKeyOf(cell: KvCell): string {
  if (cell.memoKey === null) {
    const prefix = cell.key.length + ":" + cell.key;
    cell.memoKey = cell.next === null ? prefix + "=" + cell.value : prefix + cell.value.length + "=" + cell.value + memoKeyOf(cell.next);
  }
  return cell.memoKey;
}

/** The same checks as parseKvCommand, without allocating: would the state machine accept `input`? */
function isWellFormed(input: Operation): boolean {
  if (typeof input.key !== "string") {
    return false;
  }
  const value: Json | undefined = input.value;
  switch (input.f) {
    case "get":
    case "delete":
      return value === null || value === undefined;
    case "put":
    case "append":
      return typeof value === "string";
    case "cas":
      return Array.isArray(value) && value.length === 2 && (value[0] === null || typeof value[0] === "string") && typeof value[1] === "string";
    default:
      return false;
  }
}
