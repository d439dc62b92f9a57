// The counter checked through its prepareHistory hook (plugins/counter/prepare-counter-history.ts):
// hand-written histories for each kind of violation it names, the histories it leaves to the
// search, and generated histories of thousands of operations with many unknown-outcome adds, the
// shape that filled the generic search's memo on a real run (a safe vote-not-persisted twin).
import { describe, expect, test } from "vitest";
import type { Json, Plugin, TimedOperation } from "../plugins/api.js";
import { counterPlugin } from "../plugins/counter/index.js";
import { prepareCounterHistory } from "../plugins/counter/prepare-counter-history.js";
import type { ClientEvent } from "../history/event.js";
import { simulateHistory } from "../history/simulate-history.js";
import { seededRandom } from "../lib/rng.js";
import { isLinearizableBruteForce } from "./brute-force.js";
import { checkOperations } from "./linearizable.js";
import { historyOperations } from "./operations.js";

const plugin = counterPlugin as Plugin<unknown>;

type Step = [process: number, type: ClientEvent["type"], f: string, value: Json];

function history(steps: readonly Step[]): ClientEvent[] {
  return steps.map(([process, type, f, value], index) => ({ process, type, f, key: null, value, index, time: index * 1000 }));
}

function check(events: ClientEvent[]): ReturnType<typeof checkOperations> {
  return checkOperations(plugin.model, historyOperations(events).operations);
}

function timed(events: ClientEvent[]): TimedOperation[] {
  return historyOperations(events).operations.map((operation) => ({
    input: operation.input,
    outcome: operation.outcome,
    call: operation.invokeIndex,
    ret: operation.completionIndex,
  }));
}

describe("counter histories, hand-written", () => {
  test("a read outside the counter bounds", () => {
    const below = check(
      history([
        [1, "invoke", "add", 3],
        [1, "ok", "add", null],
        [2, "invoke", "read", null],
        [2, "ok", "read", 1],
      ]),
    );
    expect(below.verdict).toBe("illegal");
    expect(below.partitions[0]?.iterations).toBe(0);
    expect(below.partitions[0]?.violation).toContain("it read 1, but the adds that completed before it was called total 3");
    const above = check(
      history([
        [2, "invoke", "read", null],
        [1, "invoke", "add", 3],
        [2, "ok", "read", 4],
        [1, "ok", "add", null],
      ]),
    );
    expect(above.verdict).toBe("illegal");
    expect(above.partitions[0]?.violation).toContain("it read 4, but every add called before it returned totals only 3");
  });

  test("a read lower than a read that completed before it", () => {
    const result = check(
      history([
        [1, "invoke", "add", 3],
        [2, "invoke", "read", null],
        [2, "ok", "read", 3],
        [3, "invoke", "read", null],
        [3, "ok", "read", 0],
        [1, "ok", "add", null],
      ]),
    );
    expect(result.verdict).toBe("illegal");
    expect(result.partitions[0]?.iterations).toBe(0);
    expect(result.partitions[0]?.violation).toContain("it read 0, but a read that completed before it was called had read 3");
  });

  test("an add between two reads of the same total", () => {
    // The unknown-outcome add of 5 explains both reads; the add of 2 cannot fit between them.
    const result = check(
      history([
        [1, "invoke", "add", 5],
        [1, "info", "add", null],
        [2, "invoke", "read", null],
        [2, "ok", "read", 5],
        [3, "invoke", "add", 2],
        [3, "ok", "add", null],
        [4, "invoke", "read", null],
        [4, "ok", "read", 5],
      ]),
    );
    expect(result.verdict).toBe("illegal");
    expect(result.partitions[0]?.iterations).toBe(0);
    expect(result.partitions[0]?.violation).toContain("add 2 came after a read of 5 had completed and completed before a read of 5 was called");
  });

  test("a total no set of the concurrent adds makes", () => {
    // Adds of 2 and 3 overlap the read: 0, 2, 3 and 5 are possible, 1 and 4 are not.
    const steps = (value: number): Step[] => [
      [1, "invoke", "add", 2],
      [2, "invoke", "add", 3],
      [3, "invoke", "read", null],
      [3, "ok", "read", value],
      [1, "ok", "add", null],
      [2, "ok", "add", null],
    ];
    for (const [value, expected] of [
      [0, "ok"],
      [1, "illegal"],
      [2, "ok"],
      [3, "ok"],
      [4, "illegal"],
      [5, "ok"],
    ] as const) {
      const events = history(steps(value));
      expect(isLinearizableBruteForce(plugin.model, historyOperations(events).operations) ? "ok" : "illegal").toBe(expected);
      const result = check(events);
      expect(result.verdict).toBe(expected);
      expect(result.partitions[0]?.iterations).toBe(0);
      if (expected === "illegal") {
        expect(result.partitions[0]?.violation).toContain(`it read ${value}, but no set of adds that real time allows before it totals ${value}`);
      }
    }
  });

  test("unknown-outcome adds are used only as the reads need them", () => {
    // Adds of unknown outcome of 1, 1 and 2, then reads of 2, 3 and a last total: the read of 2
    // must take the 2 alone or both 1s, and only the first leaves a 1 for the read of 3.
    const steps = (last: number): Step[] => [
      [1, "invoke", "add", 1],
      [1, "info", "add", null],
      [2, "invoke", "add", 1],
      [2, "info", "add", null],
      [3, "invoke", "add", 2],
      [3, "info", "add", null],
      [4, "invoke", "read", null],
      [4, "ok", "read", 2],
      [5, "invoke", "read", null],
      [5, "ok", "read", 3],
      [6, "invoke", "read", null],
      [6, "ok", "read", last],
    ];
    for (const [last, expected] of [
      [3, "ok"],
      [4, "ok"],
      [5, "illegal"],
    ] as const) {
      const events = history(steps(last));
      expect(isLinearizableBruteForce(plugin.model, historyOperations(events).operations) ? "ok" : "illegal").toBe(expected);
      const result = check(events);
      expect(result.verdict).toBe(expected);
      expect(result.partitions[0]?.iterations).toBe(0);
    }
  });

  test("histories the sweep does not cover are left to the search", () => {
    const withDelta = (delta: number): ClientEvent[] =>
      history([
        [1, "invoke", "add", delta],
        [1, "ok", "add", null],
        [2, "invoke", "read", null],
        [2, "ok", "read", delta],
      ]);
    for (const delta of [0, -2]) {
      expect(prepareCounterHistory(timed(withDelta(delta)))).toEqual({});
      expect(check(withDelta(delta)).verdict).toBe("ok");
    }
    expect(prepareCounterHistory(timed(withDelta(4)))).toHaveProperty("linearization");
    // Past its budget of choices the sweep gives up too, and the search decides.
    expect(prepareCounterHistory(timed(withDelta(4)), 0)).toEqual({});
  });
});

describe("counter histories, generated", () => {
  // Many clients, a long history, and a tenth of the adds of unknown outcome (some applied later).
  const generated = (seed: number): ClientEvent[] =>
    simulateHistory(plugin, { clientCount: 8, operationCount: 4000, keys: [], infoProbability: 0.1, failProbability: 0.02, random: seededRandom(seed) });

  test.each([1, 2, 3])("seed %i: decided linearizable by the sweep, with no search", (seed) => {
    const events = generated(seed);
    const infoAdds = events.filter((event) => event.type === "info" && event.f === "add").length;
    expect(infoAdds).toBeGreaterThan(100);
    const result = check(events);
    expect(result.verdict).toBe("ok");
    expect(result.partitions[0]?.iterations).toBe(0);
  });

  test.each([1, 2, 3])("seed %i: a late read made 1 lower than a total it must have seen is found", (seed) => {
    const events = generated(seed);
    const operations = historyOperations(events).operations;
    // The latest read whose total is above one that completed before it was called.
    const reads = operations.filter((operation) => operation.input.f === "read" && operation.type === "ok");
    const target = reads[Math.floor(reads.length * 0.8)];
    const earlier = reads.filter((read) => target !== undefined && read.completionIndex < target.invokeIndex).map((read) => read.outcome);
    const seen = Math.max(...earlier.map((outcome) => (outcome.known ? (outcome.value as number) : 0)));
    expect(seen).toBeGreaterThan(0);
    const completion = events.find((event) => event.index === target?.completionIndex) as ClientEvent;
    completion.value = seen - 1;
    const result = check(events);
    expect(result.verdict).toBe("illegal");
    expect(result.partitions[0]?.iterations).toBe(0);
  });
});
