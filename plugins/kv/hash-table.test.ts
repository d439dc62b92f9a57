import { describe, expect, it } from "vitest";
import type { Operation } from "../api.js";
import { describePluginCompliance } from "../compliance.js";
import { op, ok, pluginErrorCode, unknown, utf8 } from "../testing/test-support.js";
import { kvPlugin } from "./index.js";
import { kvStateOf, type KvModelState } from "./model.js";

describe("kv state machine", () => {
  it("reads an absent key as null", () => {
    const machine = kvPlugin.createStateMachine();
    expect(machine.apply(op("get", "x"))).toBeNull();
  });

  it("put returns null and a get then reads the value", () => {
    const machine = kvPlugin.createStateMachine();
    expect(machine.apply(op("put", "x", "1"))).toBeNull();
    expect(machine.apply(op("get", "x"))).toBe("1");
    expect(machine.apply(op("get", "y"))).toBeNull();
  });

  it("append to an absent key sets it, then concatenates", () => {
    const machine = kvPlugin.createStateMachine();
    expect(machine.apply(op("append", "x", "1 "))).toBeNull();
    expect(machine.apply(op("get", "x"))).toBe("1 ");
    expect(machine.apply(op("append", "x", "2 "))).toBeNull();
    expect(machine.apply(op("get", "x"))).toBe("1 2 ");
  });

  it("cas with expected null swaps on an absent key only", () => {
    const machine = kvPlugin.createStateMachine();
    expect(machine.apply(op("cas", "x", [null, "1"]))).toBe(true);
    expect(machine.apply(op("get", "x"))).toBe("1");
    expect(machine.apply(op("cas", "x", [null, "2"]))).toBe(false);
    expect(machine.apply(op("get", "x"))).toBe("1");
  });

  it("cas swaps when the current value equals expected and writes nothing otherwise", () => {
    const machine = kvPlugin.createStateMachine();
    machine.apply(op("put", "x", "1"));
    expect(machine.apply(op("cas", "x", ["0", "2"]))).toBe(false);
    expect(machine.apply(op("get", "x"))).toBe("1");
    expect(machine.apply(op("cas", "x", ["1", "2"]))).toBe(true);
    expect(machine.apply(op("get", "x"))).toBe("2");
  });

  it("delete returns null and leaves the key absent (a cas expecting null then swaps)", () => {
    const machine = kvPlugin.createStateMachine();
    machine.apply(op("put", "x", "1"));
    expect(machine.apply(op("delete", "x"))).toBeNull();
    expect(machine.apply(op("get", "x"))).toBeNull();
    expect(machine.apply(op("delete", "x"))).toBeNull();
    expect(machine.apply(op("cas", "x", [null, "3"]))).toBe(true);
  });

  it("keeps the empty string apart from an absent key", () => {
    const machine = kvPlugin.createStateMachine();
    machine.apply(op("put", "x", ""));
    expect(machine.apply(op("get", "x"))).toBe("");
    expect(machine.apply(op("cas", "x", [null, "1"]))).toBe(false);
  });

  it("rejects bad operations with errors naming the operation and field, changing nothing", () => {
    const machine = kvPlugin.createStateMachine();
    machine.apply(op("put", "x", "1"));
    const before = machine.snapshot();
    const cases: [Operation, string, string][] = [
      [op("incr", "x"), "UNKNOWN_OPERATION", 'kv: unknown operation "incr"; known: get, put, append, cas, delete'],
      [op("put", "x", 3), "BAD_ARGUMENT", 'kv put: field "value" must be a string, got 3'],
      [op("put", null, "1"), "BAD_ARGUMENT", 'kv put: field "key" must be a string, got null'],
      [op("append", "x", null), "BAD_ARGUMENT", 'kv append: field "value" must be a string, got null'],
      [op("cas", "x", ["1"]), "BAD_ARGUMENT", 'kv cas: field "value" must be [expected: string or null, new: string], got ["1"]'],
      [op("cas", "x", [1, "2"]), "BAD_ARGUMENT", 'kv cas: field "value[0] (expected)" must be a string or null, got 1'],
      [op("cas", "x", ["1", null]), "BAD_ARGUMENT", 'kv cas: field "value[1] (new)" must be a string, got null'],
      [op("get", "x", "1"), "BAD_ARGUMENT", 'kv get: field "value" must be null (this operation takes no argument), got "1"'],
    ];
    for (const [bad, code, message] of cases) {
      expect(() => machine.apply(bad)).toThrow(message);
      expect(pluginErrorCode(() => machine.apply(bad))).toBe(code);
    }
    expect(machine.snapshot()).toEqual(before);
  });

  it("snapshots are canonical: the same contents give the same bytes whatever the write order", () => {
    const first = kvPlugin.createStateMachine();
    first.apply(op("put", "b", "2"));
    first.apply(op("put", "a", "1"));
    const second = kvPlugin.createStateMachine();
    second.apply(op("put", "a", "1"));
    second.apply(op("put", "c", "3"));
    second.apply(op("put", "b", "2"));
    second.apply(op("delete", "c"));
    expect(new TextDecoder().decode(first.snapshot())).toBe('{"plugin":"kv","version":1,"state":[["a","1"],["b","2"]]}');
    expect(second.snapshot()).toEqual(first.snapshot());
  });

  it("restore names what is wrong and keeps the old state", () => {
    const machine = kvPlugin.createStateMachine();
    machine.apply(op("put", "x", "1"));
    const cases: [string, string][] = [
      ["{", "kv snapshot: not JSON"],
      ['{"plugin":"counter","version":1,"state":3}', 'kv snapshot: field "plugin" is "counter", expected "kv"'],
      ['{"plugin":"kv","version":2,"state":[]}', 'kv snapshot: field "version" is 2, expected 1'],
      ['{"plugin":"kv","version":1}', 'kv snapshot: field "state" is missing'],
      ['{"plugin":"kv","version":1,"state":{}}', 'kv snapshot: field "state" must be an array'],
      ['{"plugin":"kv","version":1,"state":[["a",1]]}', "kv snapshot: state[0] must be a [key, value] pair of strings"],
      ['{"plugin":"kv","version":1,"state":[["a","1"],["a","2"]]}', 'kv snapshot: state[1] repeats key "a"'],
    ];
    for (const [text, message] of cases) {
      expect(() => machine.restore(utf8(text))).toThrow(message);
      expect(pluginErrorCode(() => machine.restore(utf8(text)))).toBe("BAD_SNAPSHOT");
    }
    expect(pluginErrorCode(() => machine.restore(new Uint8Array([0xff, 0xfe])))).toBe("BAD_SNAPSHOT");
    expect(machine.apply(op("get", "x"))).toBe("1");
  });
});

describe("kv model", () => {
  const { model } = kvPlugin;
  // x's value alone, or absent: the state of a partition of key x.
  const x = (value: string | null): KvModelState => (value === null ? null : kvStateOf({ x: value }));
  const keyOf = (state: KvModelState | undefined): string | undefined => (state === undefined ? undefined : model.stateKey(state));
  const expectState = (actual: KvModelState | undefined, expected: KvModelState | undefined): void => {
    expect(keyOf(actual)).toBe(keyOf(expected));
  };

  it("starts absent and partitions by key", () => {
    expect(model.init()).toBeNull();
    expect(model.partitionKey(op("get", "k7"))).toBe("k7");
  });

  it("refuses to partition an operation without a key", () => {
    expect(() => model.partitionKey({ f: "get", value: null })).toThrow('kv operation "get" has no key');
    expect(pluginErrorCode(() => model.partitionKey({ f: "put", key: null, value: "1" }))).toBe("BAD_ARGUMENT");
  });

  it("accepts exactly the results the state machine gives", () => {
    expectState(model.step(null, op("get", "x"), ok(null)), null);
    expectState(model.step(null, op("get", "x"), ok("1")), undefined);
    expectState(model.step(x("1"), op("get", "x"), ok("1")), x("1"));
    expectState(model.step(null, op("put", "x", "1"), ok(null)), x("1"));
    expectState(model.step(null, op("put", "x", "1"), ok("1")), undefined);
    expectState(model.step(null, op("append", "x", "1 "), ok(null)), x("1 "));
    expectState(model.step(x("1 "), op("append", "x", "2 "), ok(null)), x("1 2 "));
    expectState(model.step(null, op("cas", "x", [null, "1"]), ok(true)), x("1"));
    expectState(model.step(null, op("cas", "x", [null, "1"]), ok(false)), undefined);
    expectState(model.step(x("0"), op("cas", "x", ["1", "2"]), ok(false)), x("0"));
    expectState(model.step(x("0"), op("cas", "x", ["1", "2"]), ok(true)), undefined);
    expectState(model.step(x("1"), op("delete", "x"), ok(null)), null);
  });

  it("with an unknown outcome returns the state the operation would leave", () => {
    expectState(model.step(x("0"), op("cas", "x", ["0", "2"]), unknown), x("2"));
    expectState(model.step(x("0"), op("cas", "x", ["1", "2"]), unknown), x("0"));
    expectState(model.step(null, op("append", "x", "1 "), unknown), x("1 "));
    expectState(model.step(x("1"), op("delete", "x"), unknown), null);
  });

  it("treats a malformed operation as one that never took effect", () => {
    expectState(model.step(x("1"), op("put", "x", 3), unknown), x("1"));
    expectState(model.step(x("1"), op("put", "x", 3), ok(null)), undefined);
    expectState(model.step(x("1"), op("incr", "x"), unknown), x("1"));
  });

  it("keeps keys apart whatever the partitioning", () => {
    const both = model.step(x("1"), op("put", "y", "2"), ok(null));
    expectState(both, kvStateOf({ x: "1", y: "2" }));
    expectState(model.step(both as KvModelState, op("get", "y"), ok("1")), undefined);
    expectState(model.step(both as KvModelState, op("get", "y"), ok("2")), both);
    expectState(model.step(both as KvModelState, op("get", "z"), ok(null)), both);
    expectState(model.step(both as KvModelState, op("delete", "x"), ok(null)), kvStateOf({ y: "2" }));
    // Insertion order does not matter: equal maps, equal keys.
    expect(model.stateKey(kvStateOf({ y: "2", x: "1" }))).toBe(model.stateKey(both as KvModelState));
  });

  it("gives the absent key and the empty string different state keys", () => {
    expect(model.stateKey(null)).not.toBe(model.stateKey(x("")));
    expect(model.stateKey(x("a"))).toBe(model.stateKey(x("a")));
    expect(model.stateKey(kvStateOf({ a: "b=c" }))).not.toBe(model.stateKey(kvStateOf({ "a:b": "c" })));
  });

  it("describes operations and states on one line", () => {
    expect(model.describeOperation(op("cas", "x", ["1", "2"]), ok(true))).toBe('cas "x" ["1","2"] -> true');
    expect(model.describeOperation(op("get", "x"), unknown)).toBe('get "x" -> ?');
    expect(model.describeState(null)).toBe("absent");
    expect(model.describeState(x("1 2 "))).toBe('"1 2 "');
    expect(model.describeState(kvStateOf({ x: "1", y: "2" }))).toBe('"x"="1", "y"="2"');
  });
});

describe("kv operation arguments", () => {
  it("writes unique values, space-terminated append tokens, and cas guesses from a recent window", () => {
    const context = (unique: number, random: number) => ({ key: "k", unique, random: () => random });
    expect(kvPlugin.operations["put"]?.argument(context(12, 0.5))).toBe("12");
    expect(kvPlugin.operations["append"]?.argument(context(12, 0.5))).toBe("12 ");
    expect(kvPlugin.operations["cas"]?.argument(context(12, 0.05))).toEqual([null, "12"]);
    expect(kvPlugin.operations["cas"]?.argument(context(12, 0.5))).toEqual(["3", "12"]);
    expect(kvPlugin.operations["get"]?.readOnly).toBe(true);
    expect(
      Object.entries(kvPlugin.operations)
        .filter(([, spec]) => spec.readOnly)
        .map(([f]) => f),
    ).toEqual(["get"]);
  });
});

describePluginCompliance(kvPlugin);
