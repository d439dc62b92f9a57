// A minimal kv model for the checker's own tests until plugins/hash-table lands; not used by
// the command. State: one key's value (the checker partitions by key), null when absent.
import type { Json, Model, Operation, Outcome } from "../../plugins/api.js";

type KvState = string | null;

export const testKvModel: Model<KvState> = {
  init: () => null,
  step(state: KvState, input: Operation, outcome: Outcome): KvState | undefined {
    const result: Json | undefined = outcome.known ? outcome.value : undefined;
    switch (input.f) {
      case "get":
        return outcome.known && result !== state ? undefined : state;
      case "put":
        return outcome.known && result !== null ? undefined : (input.value as string);
      case "append":
        return outcome.known && result !== null ? undefined : (state ?? "") + (input.value as string);
      case "delete":
        return outcome.known && result !== null ? undefined : null;
      case "cas": {
        const [expected, replacement] = input.value as [string | null, string];
        const swapped = state === expected;
        if (outcome.known && result !== swapped) {
          return undefined;
        }
        return swapped ? replacement : state;
      }
      default:
        throw new Error(`unknown kv operation "${input.f}"`);
    }
  },
  stateKey: (state) => (state === null ? "\u0000" : state),
  partitionKey: (input) => input.key ?? null,
  describeOperation: (input, outcome) =>
    `${input.f}(${JSON.stringify(input.value)}) -> ${outcome.known ? JSON.stringify(outcome.value) : "?"}`,
  describeState: (state) => JSON.stringify(state),
};
