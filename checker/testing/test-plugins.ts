// A kv plugin for the checker's differential tests that writes only "0".."2", unlike the built-in
// kv's unique values: repeated values make ambiguous histories (a `put 1` that is a no-op on state
// 1 may be needed later to restore 1), which is where pruning bugs hide. Not used by the command.
import { PluginError, type Model, type Operation, type Outcome, type Plugin, type StateMachine } from "../../plugins/api.js";

type KvState = string | null;

const kvModel: Model<KvState> = {
  init: () => null,
  step(state, input, outcome) {
    const result = outcome.known ? outcome.value : undefined;
    switch (input.f) {
      case "get":
        return outcome.known && result !== state ? undefined : state;
      case "put":
        return outcome.known && result !== null ? undefined : (input.value as string);
      case "append":
        return outcome.known && result !== null ? undefined : (state ?? "") + (input.value as string);
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
  partitionKey(input) {
    if (typeof input.key !== "string") {
      throw new PluginError("BAD_ARGUMENT", `test-kv operation "${input.f}" has no key`);
    }
    return input.key;
  },
  describeOperation: (input, outcome) => describe(input, outcome),
  describeState: (state) => JSON.stringify(state),
};

function createKvMachine(): StateMachine {
  const values = new Map<string, string>();
  return {
    apply(op) {
      const key = op.key ?? "";
      const current = values.get(key) ?? null;
      switch (op.f) {
        case "get":
          return current;
        case "put":
          values.set(key, op.value as string);
          return null;
        case "append":
          values.set(key, (current ?? "") + (op.value as string));
          return null;
        case "cas": {
          const [expected, replacement] = op.value as [string | null, string];
          if (current !== expected) {
            return false;
          }
          values.set(key, replacement);
          return true;
        }
        default:
          throw new Error(`unknown kv operation "${op.f}"`);
      }
    },
    snapshot: () => new Uint8Array(),
    restore: () => undefined,
  };
}

const smallValue = (context: { random: () => number }): string => String(Math.floor(context.random() * 3));

export const testKvPlugin: Plugin<KvState> = {
  name: "test-kv",
  description: "kv with values 0..2, for checker tests",
  operations: {
    get: { readOnly: true, keyed: true, argument: () => null },
    put: { readOnly: false, keyed: true, argument: smallValue },
    append: { readOnly: false, keyed: true, argument: smallValue },
    cas: {
      readOnly: false,
      keyed: true,
      argument: (context) => [context.random() < 0.2 ? null : smallValue(context), smallValue(context)],
    },
  },
  createStateMachine: createKvMachine,
  model: kvModel,
};

function describe(input: Operation, outcome: Outcome): string {
  const argument = input.value === null ? "" : JSON.stringify(input.value);
  return `${input.f}(${argument}) -> ${outcome.known ? JSON.stringify(outcome.value) : "?"}`;
}
