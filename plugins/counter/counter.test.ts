import { describe, expect, it } from "vitest";
import type { Operation } from "../api.js";
import { describePluginCompliance } from "../compliance.js";
import { ok, op, pluginErrorCode, text, unknown, utf8 } from "../testing/test-support.js";
import { ADD_DELTA_MAX, counterPlugin } from "./index.js";

describePluginCompliance(counterPlugin);

describe("counter state machine", () => {
  it("starts at 0; add returns null; read returns the sum of the adds before it", () => {
    const machine = counterPlugin.createStateMachine();
    expect(machine.apply(op("read", null))).toBe(0);
    expect(machine.apply(op("add", null, 3))).toBeNull();
    expect(machine.apply(op("add", null, -1))).toBeNull();
    expect(machine.apply(op("add", null, 0))).toBeNull();
    expect(machine.apply(op("read", null))).toBe(2);
  });

  it("rejects bad operations naming the field, and changes nothing", () => {
    const machine = counterPlugin.createStateMachine();
    machine.apply(op("add", null, 5));
    const cases: [Operation, string, string][] = [
      [op("sub", null, 1), "UNKNOWN_OPERATION", 'counter: unknown operation "sub"; known: add, read'],
      [op("add", null, 1.5), "BAD_ARGUMENT", 'counter add: field "value" must be a safe integer (the delta), got 1.5'],
      [op("add", null, "1"), "BAD_ARGUMENT", 'counter add: field "value" must be a safe integer (the delta), got "1"'],
      [op("add", null, null), "BAD_ARGUMENT", 'counter add: field "value" must be a safe integer (the delta), got null'],
      [op("add", "k", 1), "BAD_ARGUMENT", 'counter add: field "key" must be null (this operation takes no key), got "k"'],
      [op("read", null, 1), "BAD_ARGUMENT", 'counter read: field "value" must be null (this operation takes no argument), got 1'],
      [
        op("add", null, Number.MAX_SAFE_INTEGER),
        "BAD_ARGUMENT",
        `counter add: field "value" (${Number.MAX_SAFE_INTEGER}) would take the total 5 outside the safe integers`,
      ],
    ];
    for (const [bad, code, message] of cases) {
      expect(() => machine.apply(bad)).toThrow(message);
      expect(pluginErrorCode(() => machine.apply(bad))).toBe(code);
    }
    expect(machine.apply(op("read", null))).toBe(5);
  });

  it("snapshots the total and restores it, refusing bad snapshots", () => {
    const machine = counterPlugin.createStateMachine();
    machine.apply(op("add", null, 7));
    expect(text(machine.snapshot())).toBe('{"plugin":"counter","version":1,"state":7}');
    const restored = counterPlugin.createStateMachine();
    restored.restore(machine.snapshot());
    expect(restored.apply(op("read", null))).toBe(7);
    expect(() => restored.restore(utf8('{"plugin":"counter","version":1,"state":1.5}'))).toThrow(
      'counter snapshot: field "state" must be a safe integer, got 1.5',
    );
    expect(pluginErrorCode(() => restored.restore(utf8('{"plugin":"kv","version":1,"state":[]}')))).toBe("BAD_SNAPSHOT");
    expect(restored.apply(op("read", null))).toBe(7);
  });
});

describe("counter model", () => {
  const { model } = counterPlugin;

  it("is one partition", () => {
    expect(model.partitionKey(op("add", null, 1))).toBeNull();
    expect(model.partitionKey(op("read", null))).toBeNull();
  });

  it("accepts a read only of the current total and an add only with result null", () => {
    expect(model.step(4, op("read", null), ok(4))).toBe(4);
    expect(model.step(4, op("read", null), ok(5))).toBeUndefined();
    expect(model.step(4, op("read", null), ok("4"))).toBeUndefined();
    expect(model.step(4, op("add", null, 2), ok(null))).toBe(6);
    expect(model.step(4, op("add", null, 2), ok(6))).toBeUndefined();
  });

  it("applies an add with an unknown outcome, and ignores adds the machine would refuse", () => {
    expect(model.step(4, op("add", null, 2), unknown)).toBe(6);
    expect(model.step(4, op("add", null, 0.5), unknown)).toBe(4);
    expect(model.step(4, op("add", null, Number.MAX_SAFE_INTEGER), unknown)).toBe(4);
    expect(model.step(4, op("add", null, Number.MAX_SAFE_INTEGER), ok(null))).toBeUndefined();
  });

  it("describes operations and states", () => {
    expect(model.describeOperation(op("add", null, 2), ok(null))).toBe("add 2 -> null");
    expect(model.describeOperation(op("read", null), unknown)).toBe("read -> ?");
    expect(model.describeState(9)).toBe("total 9");
  });
});

describe("counter operation arguments", () => {
  it("adds positive deltas up to ADD_DELTA_MAX, so the total only grows", () => {
    const add = counterPlugin.operations["add"];
    expect(add?.argument({ key: null, unique: 1, random: () => 0 })).toBe(1);
    expect(add?.argument({ key: null, unique: 1, random: () => 0.9999 })).toBe(ADD_DELTA_MAX);
    expect(counterPlugin.operations["read"]?.readOnly).toBe(true);
    expect(add?.readOnly).toBe(false);
  });
});
