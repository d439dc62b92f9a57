import { describe, expect, it } from "vitest";
import type { SnapshotWriter, StateMachine } from "../api.js";
import { op } from "../testing/test-support.js";
import { kvPlugin } from "./index.js";

function writeAll(writer: SnapshotWriter, budgetBytes: number, between: () => void = () => undefined): { bytes: Uint8Array; slices: number } {
  const slices: Uint8Array[] = [];
  for (let slice = writer.next(budgetBytes); slice !== undefined; slice = writer.next(budgetBytes)) {
    slices.push(slice);
    between();
  }
  const bytes = new Uint8Array(slices.reduce((sum, slice) => sum + slice.length, 0));
  let offset = 0;
  for (const slice of slices) {
    bytes.set(slice, offset);
    offset += slice.length;
  }
  return { bytes, slices: slices.length };
}

function restored(bytes: Uint8Array): StateMachine {
  const machine = kvPlugin.createStateMachine();
  machine.restore(bytes);
  return machine;
}

describe("kv beginSnapshot (a frozen view written in slices)", () => {
  it("writes the state as it was when frozen, whatever apply() changes between slices", () => {
    const machine = kvPlugin.createStateMachine();
    for (let i = 0; i < 50; i += 1) {
      machine.apply(op("put", `k${i}`, `v${i}`));
    }
    const frozen = machine.snapshot();
    const writer = machine.beginSnapshot?.();
    expect(writer).toBeDefined();
    let step = 0;
    const { bytes, slices } = writeAll(writer as SnapshotWriter, 40, () => {
      // Overwrite, delete, append to, and create keys, before and after the writer reaches them.
      machine.apply(op("put", `k${step % 50}`, "changed"));
      machine.apply(op("delete", `k${(step * 7) % 50}`, null));
      machine.apply(op("append", `k${(step * 3) % 50}`, "+"));
      machine.apply(op("put", `new${step}`, "x"));
      step += 1;
    });
    expect(slices).toBeGreaterThan(10);
    expect(restored(bytes).snapshot()).toEqual(frozen);
    expect(machine.apply(op("get", "new0"))).toBe("x");
  });

  it("a restore() while a view is written leaves the view as it was frozen", () => {
    const machine = kvPlugin.createStateMachine();
    machine.apply(op("put", "a", "1"));
    machine.apply(op("put", "b", "2"));
    const frozen = machine.snapshot();
    const other = kvPlugin.createStateMachine();
    other.apply(op("put", "a", "other"));
    const writer = machine.beginSnapshot?.() as SnapshotWriter;
    let once = false;
    const { bytes } = writeAll(writer, 1, () => {
      if (!once) {
        machine.restore(other.snapshot());
        machine.apply(op("put", "b", "after restore"));
        once = true;
      }
    });
    expect(restored(bytes).snapshot()).toEqual(frozen);
    expect(machine.apply(op("get", "b"))).toBe("after restore");
  });

  it("an empty state writes an empty snapshot", () => {
    const machine = kvPlugin.createStateMachine();
    const { bytes } = writeAll(machine.beginSnapshot?.() as SnapshotWriter, 1024);
    expect(restored(bytes).snapshot()).toEqual(machine.snapshot());
  });
});

describe("kv beginRestore (a snapshot read in slices)", () => {
  const encoder = new TextEncoder();
  const sliced = (text: string): StateMachine => {
    const machine = kvPlugin.createStateMachine();
    machine.apply(op("put", "old", "1"));
    const reader = machine.beginRestore?.();
    if (reader === undefined) {
      throw new Error("kv has beginRestore");
    }
    const bytes = encoder.encode(text);
    for (let offset = 0; offset < bytes.length; offset += 2) {
      reader.push(bytes.subarray(offset, offset + 2));
    }
    reader.finish();
    return machine;
  };
  const head = '{"plugin":"kv","version":1,"state":[';

  it("reads the sliced format record by record, and snapshot()'s one-line format too", () => {
    for (const text of [`${head}\n["a","é"],\n["b","2"]\n]}`, '{"plugin":"kv","version":1,"state":[["a","é"],["b","2"]]}']) {
      const machine = sliced(text);
      expect(machine.apply(op("get", "a", null))).toBe("é");
      expect(machine.apply(op("get", "old", null))).toBe(null);
    }
  });

  it("names the line of a bad record, and leaves the state as it was", () => {
    const cases: [string, string][] = [
      [`${head}\n["a",1]\n]}`, "kv snapshot: line 2: must be a [key, value] pair of strings"],
      [`${head}\n["a","1"],\n["a","2"]\n]}`, 'kv snapshot: line 3: repeats key "a"'],
      [`${head}\n["a","1"]\n["b","2"]\n]}`, "kv snapshot: line 3: a record after one without a trailing comma"],
      [`${head}\n["a","1"],\n]}`, "kv snapshot: line 3: ]} after a trailing comma"],
      [`${head}\n["a","1"]`, "kv snapshot: line 2: the snapshot ends before the closing ]}"],
      [`${head}\n]}\nx`, "kv snapshot: line 3: text after the closing ]}"],
    ];
    for (const [text, message] of cases) {
      const machine = kvPlugin.createStateMachine();
      machine.apply(op("put", "old", "1"));
      const reader = machine.beginRestore?.();
      expect(() => {
        reader?.push(encoder.encode(text));
        reader?.finish();
      }).toThrow(message);
      expect(machine.apply(op("get", "old", null))).toBe("1");
    }
  });
});
