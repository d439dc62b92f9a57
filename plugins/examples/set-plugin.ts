// An example third-party plugin: a grow-only set of strings. It imports only the contract
// (plugins/api.ts), as any plugin outside raftlab would, and is loaded by path:
//   raftlab run --plugin ./plugins/examples/set-plugin.ts       (or `plugin:` in a workload file)
//   raftlab check history.jsonl --plugin ./plugins/examples/set-plugin.ts
// Operations: add (value: a string; result null; adding a member twice changes nothing) and
// read (read-only; result: every member, sorted, so equal sets give equal results).
import { PluginError, type Json, type Model, type Operation, type Outcome, type Plugin, type StateMachine } from "../api.js";

/** A model state: the members, sorted, never mutated (step returns a new array). */
type Members = readonly string[];

function checkOperation(op: Operation): void {
  if (op.f !== "add" && op.f !== "read") {
    throw new PluginError("UNKNOWN_OPERATION", `set: unknown operation ${JSON.stringify(op.f)}; known: add, read`);
  }
  if (op.key !== null && op.key !== undefined) {
    throw new PluginError("BAD_ARGUMENT", `set ${op.f}: field "key" must be null, got ${JSON.stringify(op.key)}`);
  }
  if (op.f === "add") {
    if (typeof op.value !== "string") {
      throw new PluginError("BAD_ARGUMENT", `set add: field "value" must be a string, got ${JSON.stringify(op.value)}`);
    }
  } else if (op.value !== null && op.value !== undefined) {
    throw new PluginError("BAD_ARGUMENT", `set read: field "value" must be null, got ${JSON.stringify(op.value)}`);
  }
}

class GrowOnlySet implements StateMachine {
  #members = new Set<string>();

  apply(op: Operation): Json {
    checkOperation(op); // before any change, so a bad operation leaves the set as it was
    if (op.f === "add") {
      this.#members.add(op.value as string);
      return null;
    }
    return [...this.#members].sort();
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify([...this.#members].sort()));
  }

  restore(data: Uint8Array): void {
    let members: unknown;
    try {
      members = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
    } catch (error) {
      throw new PluginError("BAD_SNAPSHOT", `set snapshot: not UTF-8 JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(members) || !members.every((member) => typeof member === "string")) {
      throw new PluginError("BAD_SNAPSHOT", "set snapshot: expected a JSON array of strings");
    }
    this.#members = new Set(members as string[]);
  }
}

const model: Model<Members> = {
  init: () => [],
  step(state: Members, input: Operation, outcome: Outcome): Members | undefined {
    if (input.f === "add" && typeof input.value === "string") {
      if (outcome.known && outcome.value !== null) {
        return undefined;
      }
      return state.includes(input.value) ? state : [...state, input.value].sort();
    }
    if (input.f === "read") {
      if (!outcome.known) {
        return state;
      }
      const result = outcome.value;
      const same = Array.isArray(result) && result.length === state.length && result.every((member, index) => member === state[index]);
      return same ? state : undefined;
    }
    // Anything else the state machine refuses, so it never takes effect and never returns ok.
    return outcome.known ? undefined : state;
  },
  stateKey: (state: Members): string => JSON.stringify(state),
  partitionKey: (): string | null => null,
  describeOperation: (input: Operation, outcome: Outcome): string =>
    `${input.f}${input.value === null ? "" : ` ${JSON.stringify(input.value)}`} -> ${outcome.known ? JSON.stringify(outcome.value) : "?"}`,
  describeState: (state: Members): string => `{${state.join(", ")}}`,
};

export const setPlugin: Plugin<Members> = {
  name: "grow-only-set",
  description: "A grow-only set of strings: add (result null), read (the sorted members).",
  operations: {
    // A small range, so some adds repeat a member and test that adding twice changes nothing.
    add: { readOnly: false, keyed: false, argument: ({ random }) => `m${Math.floor(random() * 32)}` },
    read: { readOnly: true, keyed: false, argument: () => null },
  },
  createStateMachine: () => new GrowOnlySet(),
  model,
};

export default setPlugin;
