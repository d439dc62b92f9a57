// The compliance suite must catch broken plugins, not just pass good ones: each case below breaks
// one promise of a real plugin and expects the check that guards it to fail.
import { describe, expect, it } from "vitest";
import type { Json, Model, Operation, Plugin, StateMachine } from "./api.js";
import { pluginComplianceChecks } from "./compliance.js";
import { counterPlugin } from "./counter/index.js";
import { kvPlugin } from "./kv/index.js";
import { kvStateOf, type KvModelState } from "./kv/model.js";

const RUNS = 60;

function runCheck<S>(plugin: Plugin<S>, id: string): void {
  const check = pluginComplianceChecks(plugin, { runs: RUNS }).find((candidate) => candidate.id === id);
  if (check === undefined) {
    throw new Error(`no compliance check "${id}"`);
  }
  check.run();
}

/** kv with its model's step replaced. */
function kvWithStep(step: Model<KvModelState>["step"]): Plugin<KvModelState> {
  return { ...kvPlugin, model: { ...kvPlugin.model, step } };
}

/** kv whose state machines are wrapped by `wrap`. */
function kvWithMachine(wrap: (inner: StateMachine) => StateMachine): Plugin<KvModelState> {
  return { ...kvPlugin, createStateMachine: () => wrap(kvPlugin.createStateMachine()) };
}

const delegate = (inner: StateMachine): StateMachine => ({
  apply: (op) => inner.apply(op),
  snapshot: () => inner.snapshot(),
  restore: (data) => inner.restore(data),
});

describe("the compliance suite passes the built-in plugins' own checks in isolation", () => {
  it("finds every check by id", () => {
    expect(pluginComplianceChecks(kvPlugin).map((check) => check.id)).toEqual([
      "arguments-json",
      "model-accepts-results",
      "unknown-outcomes",
      "step-pure",
      "reads-strict",
      "reads-unchanged",
      "partition-independent",
      "snapshot-restore",
      "frozen-snapshot",
      "sliced-restore",
      "deterministic",
      "garbage-snapshot",
      "unknown-operation",
    ]);
  });
});

describe("the compliance suite catches", () => {
  it("arguments that JSON changes (NaN becomes null on the wire)", () => {
    const plugin: Plugin<KvModelState> = {
      ...kvPlugin,
      operations: { ...kvPlugin.operations, put: { readOnly: false, keyed: true, argument: () => Number.NaN } },
    };
    expect(() => runCheck(plugin, "arguments-json")).toThrow(/argument of put after JSON/);
  });

  it("a model that disagrees with the state machine (append to an absent key prefixes a space)", () => {
    const plugin = kvWithStep((state, input, outcome) =>
      input.f === "append" && state === null
        ? kvPlugin.model.step(kvStateOf({ [input.key as string]: " " }), input, outcome)
        : kvPlugin.model.step(state, input, outcome),
    );
    expect(() => runCheck(plugin, "model-accepts-results")).toThrow(/model refused operation/);
  });

  it("a model that refuses an unknown outcome", () => {
    const plugin = kvWithStep((state, input, outcome) => (input.f === "cas" && !outcome.known ? undefined : kvPlugin.model.step(state, input, outcome)));
    expect(() => runCheck(plugin, "unknown-outcomes")).toThrow(/unknown outcome of/);
  });

  it("a model whose step mutates its state", () => {
    interface Box {
      total: number;
    }
    const mutating: Model<Box> = {
      init: () => ({ total: 0 }),
      step(state, input, outcome) {
        const next = counterPlugin.model.step(state.total, input, outcome);
        if (next === undefined) {
          return undefined;
        }
        state.total = next;
        return state;
      },
      stateKey: (state) => String(state.total),
      partitionKey: () => null,
      describeOperation: counterPlugin.model.describeOperation,
      describeState: (state) => String(state.total),
    };
    expect(() => runCheck({ ...counterPlugin, model: mutating }, "step-pure")).toThrow(/after stepping add/);
  });

  it("a model that accepts any result of a read", () => {
    const plugin = kvWithStep((state, input, outcome) => (input.f === "get" ? state : kvPlugin.model.step(state, input, outcome)));
    expect(() => runCheck(plugin, "reads-strict")).toThrow(/model accepted get/);
  });

  it("a read-only operation that changes the state (get deletes)", () => {
    const plugin = kvWithMachine((inner) => ({
      ...delegate(inner),
      apply(op) {
        const result = inner.apply(op);
        if (op.f === "get") {
          inner.apply({ ...op, f: "delete" });
        }
        return result;
      },
    }));
    expect(() => runCheck(plugin, "reads-unchanged")).toThrow(/get changed the state/);
  });

  it("results that depend on another partition (a get of an absent key returns the last put anywhere)", () => {
    const plugin = kvWithMachine((inner) => {
      let lastPut: Json = null;
      return {
        ...delegate(inner),
        apply(op: Operation) {
          const result = inner.apply(op);
          if (op.f === "put") {
            lastPut = op.value;
          }
          return op.f === "get" && result === null ? lastPut : result;
        },
      };
    });
    expect(() => runCheck(plugin, "partition-independent")).toThrow(/applied to its partition alone/);
  });

  it("a restore that keeps the old state", () => {
    const plugin = kvWithMachine((inner) => ({ ...delegate(inner), restore: () => undefined }));
    expect(() => runCheck(plugin, "snapshot-restore")).toThrow();
  });

  it("a beginSnapshot that writes the live state instead of the frozen one", () => {
    const leaky = kvWithMachine((inner) => ({
      ...delegate(inner),
      beginSnapshot: () => {
        let calls = 0;
        // Writes nothing on the first call and the live state on the second: after an operation.
        return { next: () => (++calls === 1 ? new Uint8Array(0) : calls === 2 ? inner.snapshot() : undefined) };
      },
    }));
    expect(() => runCheck(leaky, "frozen-snapshot")).toThrow(/the slices restore to the state at beginSnapshot/);
  });

  it("a sliced restore that replaces the state before finish", () => {
    const empty = kvPlugin.createStateMachine().snapshot();
    const plugin = kvWithMachine((inner) => ({
      ...delegate(inner),
      beginRestore() {
        const chunks: Uint8Array[] = [];
        return {
          push(bytes: Uint8Array) {
            inner.restore(empty); // not atomic: the old state is gone before finish
            chunks.push(bytes);
          },
          finish() {
            const all = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
            chunks.reduce((offset, chunk) => (all.set(chunk, offset), offset + chunk.length), 0);
            inner.restore(all);
          },
        };
      },
    }));
    expect(() => runCheck(plugin, "sliced-restore")).toThrow(/the old state stays in force until finish/);
  });

  it("state machines that share state (not deterministic per machine)", () => {
    const shared = kvPlugin.createStateMachine();
    const plugin: Plugin<KvModelState> = { ...kvPlugin, createStateMachine: () => delegate(shared) };
    expect(() => runCheck(plugin, "deterministic")).toThrow();
  });

  it("a restore that accepts garbage", () => {
    const plugin = kvWithMachine((inner) => ({
      ...delegate(inner),
      restore(data) {
        try {
          inner.restore(data);
        } catch {
          inner.restore(kvPlugin.createStateMachine().snapshot());
        }
      },
    }));
    expect(() => runCheck(plugin, "garbage-snapshot")).toThrow(/restore of 6 garbage bytes/);
  });

  it("an unknown operation answered with null", () => {
    const known = new Set(Object.keys(kvPlugin.operations));
    const plugin = kvWithMachine((inner) => ({
      ...delegate(inner),
      apply: (op) => (known.has(op.f) ? inner.apply(op) : null),
    }));
    expect(() => runCheck(plugin, "unknown-operation")).toThrow();
  });
});
