import { describe, expect, it } from "vitest";
import type { Json, Operation } from "../api.js";
import { describePluginCompliance } from "../compliance.js";
import { ok, op, pluginErrorCode, text, unknown, utf8 } from "../testing/test-support.js";
import { queuePlugin } from "./index.js";
import type { QueueModelState } from "./model.js";

describePluginCompliance(queuePlugin);

describe("queue state machine", () => {
  it("is first in, first out; dequeue of an empty queue returns null; size counts", () => {
    const machine = queuePlugin.createStateMachine();
    expect(machine.apply(op("dequeue", null))).toBeNull();
    expect(machine.apply(op("size", null))).toBe(0);
    expect(machine.apply(op("enqueue", null, 1))).toBeNull();
    expect(machine.apply(op("enqueue", null, "two"))).toBeNull();
    expect(machine.apply(op("size", null))).toBe(2);
    expect(machine.apply(op("dequeue", null))).toBe(1);
    expect(machine.apply(op("dequeue", null))).toBe("two");
    expect(machine.apply(op("dequeue", null))).toBeNull();
    expect(machine.apply(op("size", null))).toBe(0);
  });

  it("keeps order and size across the compaction of a long consumed prefix", () => {
    const machine = queuePlugin.createStateMachine();
    for (let item = 0; item < 3000; item += 1) {
      machine.apply(op("enqueue", null, item));
    }
    const dequeued: Json[] = [];
    for (let count = 0; count < 2500; count += 1) {
      dequeued.push(machine.apply(op("dequeue", null)));
    }
    expect(dequeued).toEqual(Array.from({ length: 2500 }, (_, index) => index));
    expect(machine.apply(op("size", null))).toBe(500);
    expect(machine.apply(op("dequeue", null))).toBe(2500);
    const restored = queuePlugin.createStateMachine();
    restored.restore(machine.snapshot());
    expect(restored.apply(op("size", null))).toBe(499);
    expect(restored.apply(op("dequeue", null))).toBe(2501);
  });

  it("rejects bad operations naming the field, and changes nothing", () => {
    const machine = queuePlugin.createStateMachine();
    machine.apply(op("enqueue", null, 1));
    const before = machine.snapshot();
    const cases: [Operation, string, string][] = [
      [op("peek", null), "UNKNOWN_OPERATION", 'queue: unknown operation "peek"; known: enqueue, dequeue, size'],
      [op("enqueue", null, null), "BAD_ARGUMENT", 'queue enqueue: field "value" must be a string or a finite number, got null'],
      [op("enqueue", null, [1]), "BAD_ARGUMENT", 'queue enqueue: field "value" must be a string or a finite number, got [1]'],
      [op("enqueue", "k", 1), "BAD_ARGUMENT", 'queue enqueue: field "key" must be null (this operation takes no key), got "k"'],
      [op("dequeue", null, 1), "BAD_ARGUMENT", 'queue dequeue: field "value" must be null (this operation takes no argument), got 1'],
    ];
    for (const [bad, code, message] of cases) {
      expect(() => machine.apply(bad)).toThrow(message);
      expect(pluginErrorCode(() => machine.apply(bad))).toBe(code);
    }
    expect(machine.snapshot()).toEqual(before);
  });

  it("snapshots the queued items only, and refuses bad snapshots keeping the old state", () => {
    const machine = queuePlugin.createStateMachine();
    machine.apply(op("enqueue", null, "a"));
    machine.apply(op("enqueue", null, 2));
    machine.apply(op("dequeue", null));
    expect(text(machine.snapshot())).toBe('{"plugin":"queue","version":1,"state":[2]}');
    expect(() => machine.restore(utf8('{"plugin":"queue","version":1,"state":[1,null]}'))).toThrow(
      "queue snapshot: state[1] must be a string or a finite number, got null",
    );
    expect(pluginErrorCode(() => machine.restore(utf8('{"plugin":"queue","version":1,"state":{}}')))).toBe("BAD_SNAPSHOT");
    expect(machine.apply(op("dequeue", null))).toBe(2);
  });
});

describe("queue model", () => {
  const { model } = queuePlugin;
  const stateOf = (items: Json[]): QueueModelState => {
    let state = model.init();
    for (const item of items) {
      state = model.step(state, op("enqueue", null, item), ok(null)) as QueueModelState;
    }
    return state;
  };

  it("accepts only the head on dequeue (null when empty) and the true size", () => {
    const state = stateOf([1, 2]);
    expect(model.step(state, op("dequeue", null), ok(2))).toBeUndefined();
    expect(model.step(state, op("dequeue", null), ok(null))).toBeUndefined();
    const after = model.step(state, op("dequeue", null), ok(1));
    expect(after?.items).toEqual([2]);
    expect(model.step(model.init(), op("dequeue", null), ok(null))).toBe(model.init());
    expect(model.step(model.init(), op("dequeue", null), ok(1))).toBeUndefined();
    expect(model.step(state, op("size", null), ok(2))).toBe(state);
    expect(model.step(state, op("size", null), ok(1))).toBeUndefined();
    expect(model.step(state, op("enqueue", null, 3), ok(3))).toBeUndefined();
  });

  it("gives different state keys to different queues, however the items look", () => {
    const keys = [[], [1], ["1"], [1, 2], ["1,2"], ["1", "2"], [12], ['",'], ["", ""], [""]].map((items) => model.stateKey(stateOf(items)));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("keeps the state key equal to the items' JSON through enqueues and dequeues", () => {
    let state = stateOf(["a,b", 2, "c"]);
    state = model.step(state, op("dequeue", null), ok("a,b")) as QueueModelState;
    expect(model.stateKey(state)).toBe(model.stateKey(stateOf([2, "c"])));
    state = model.step(state, op("dequeue", null), unknown) as QueueModelState;
    state = model.step(state, op("dequeue", null), ok("c")) as QueueModelState;
    expect(model.stateKey(state)).toBe(model.stateKey(model.init()));
    expect(model.describeState(stateOf([1, "x"]))).toBe('[1,"x"]');
  });
});
