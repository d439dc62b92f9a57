// Minimal kv, counter and queue plugins for the checker's own tests, written before
// plugins/hash-table, counter and queue landed; not used by the command. Each has a state
// machine (the "real" object the simulator drives) and a sequential model (what the checker uses).
import type { Json, Model, Operation, Outcome, Plugin, StateMachine } from "../../plugins/api.js";

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
  partitionKey: (input) => input.key ?? null,
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
  description: "kv for checker tests",
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

const counterModel: Model<number> = {
  init: () => 0,
  step(state, input, outcome) {
    if (input.f === "add") {
      return outcome.known && outcome.value !== null ? undefined : state + (input.value as number);
    }
    if (input.f === "read") {
      return outcome.known && outcome.value !== state ? undefined : state;
    }
    throw new Error(`unknown counter operation "${input.f}"`);
  },
  stateKey: (state) => String(state),
  partitionKey: () => null,
  describeOperation: (input, outcome) => describe(input, outcome),
  describeState: (state) => String(state),
};

export const testCounterPlugin: Plugin<number> = {
  name: "test-counter",
  description: "counter for checker tests",
  operations: {
    add: { readOnly: false, keyed: false, argument: (context) => 1 + Math.floor(context.random() * 3) },
    read: { readOnly: true, keyed: false, argument: () => null },
  },
  createStateMachine() {
    let total = 0;
    return {
      apply(op) {
        if (op.f === "add") {
          total += op.value as number;
          return null;
        }
        return total;
      },
      snapshot: () => new Uint8Array(),
      restore: () => undefined,
    };
  },
  model: counterModel,
};

type QueueState = readonly Json[];

const queueModel: Model<QueueState> = {
  init: () => [],
  step(state, input, outcome) {
    if (input.f === "enqueue") {
      return outcome.known && outcome.value !== null ? undefined : [...state, input.value];
    }
    if (input.f === "dequeue") {
      const head = state.length === 0 ? null : state[0];
      if (outcome.known && JSON.stringify(outcome.value) !== JSON.stringify(head)) {
        return undefined;
      }
      return state.slice(1);
    }
    throw new Error(`unknown queue operation "${input.f}"`);
  },
  stateKey: (state) => JSON.stringify(state),
  partitionKey: () => null,
  describeOperation: (input, outcome) => describe(input, outcome),
  describeState: (state) => JSON.stringify(state),
};

export const testQueuePlugin: Plugin<QueueState> = {
  name: "test-queue",
  description: "queue for checker tests",
  operations: {
    enqueue: { readOnly: false, keyed: false, argument: (context) => context.unique },
    dequeue: { readOnly: false, keyed: false, argument: () => null },
  },
  createStateMachine() {
    const items: Json[] = [];
    return {
      apply(op) {
        if (op.f === "enqueue") {
          items.push(op.value);
          return null;
        }
        return items.shift() ?? null;
      },
      snapshot: () => new Uint8Array(),
      restore: () => undefined,
    };
  },
  model: queueModel,
};

function describe(input: Operation, outcome: Outcome): string {
  const argument = input.value === null ? "" : JSON.stringify(input.value);
  return `${input.f}(${argument}) -> ${outcome.known ? JSON.stringify(outcome.value) : "?"}`;
}
