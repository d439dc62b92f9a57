// The kv sequential model, per key: the checker partitions histories by key (partitionKey), so a
// state is one key's value, a string or null (absent). Hot path of the checker: no allocation
// beyond the next state and the memo key.
import type { Json, Model, Operation, Outcome } from "../api.js";
import { describeOperationLine } from "../describe.js";

/** One key's value; null when the key is absent. */
export type KvModelState = string | null;

export const kvModel: Model<KvModelState> = {
  init: () => null,

  step(state: KvModelState, input: Operation, outcome: Outcome): KvModelState | undefined {
    if (!isWellFormed(input)) {
      // The state machine rejects it (a definite failure), so it has no effect and cannot return ok.
      return outcome.known ? undefined : state;
    }
    const value = input.value;
    switch (input.f) {
      case "get":
        return outcome.known && outcome.value !== state ? undefined : state;
      case "put":
        return outcome.known && outcome.value !== null ? undefined : (value as string);
      case "append":
        if (outcome.known && outcome.value !== null) {
          return undefined;
        }
        return state === null ? (value as string) : state + (value as string);
      case "cas": {
        const pair = value as [string | null, string];
        const swapped = state === pair[0];
        if (outcome.known && outcome.value !== swapped) {
          return undefined;
        }
        return swapped ? pair[1] : state;
      }
      case "delete":
        return outcome.known && outcome.value !== null ? undefined : null;
      default:
        return outcome.known ? undefined : state;
    }
  },

  // "=" marks a present value so that the absent key and the empty string differ.
  stateKey: (state: KvModelState): string => (state === null ? "absent" : "=" + state),

  partitionKey: (input: Operation): string | null => input.key ?? null,

  describeOperation: describeOperationLine,

  describeState: (state: KvModelState): string => (state === null ? "absent" : JSON.stringify(state)),
};

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
      return (
        Array.isArray(value) &&
        value.length === 2 &&
        (value[0] === null || typeof value[0] === "string") &&
        typeof value[1] === "string"
      );
    default:
      return false;
  }
}
