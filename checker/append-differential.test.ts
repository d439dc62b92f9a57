// The kv's append reasoning (plugins/kv/append-mapping.ts: reads cut into the writes they saw,
// ordered by the register's chain reasoning) against brute force: its verdicts must be brute
// force's, and it must actually decide the histories it covers without a search.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Json, OperationSpec, Plugin } from "../plugins/api.js";
import type { ClientEvent } from "../history/event.js";
import { simulateHistory } from "../history/simulate-history.js";
import { seededRandom } from "../lib/rng.js";
import { isLinearizableBruteForce } from "./brute-force.js";
import { checkOperations } from "./linearizable.js";
import { historyOperations } from "./operations.js";
import { kvPlugin } from "../plugins/kv/index.js";
import { appendMappingOf, replays } from "../plugins/kv/append-mapping.js";

const appendScenarios = fc.record({
  seed: fc.integer(),
  clientCount: fc.integer({ min: 1, max: 6 }),
  operationCount: fc.integer({ min: 1, max: 12 }),
  infoProbability: fc.constantFrom(0, 0.1, 0.3),
  keys: fc.constantFrom(["a"], ["a", "b"]),
  operationNames: fc.constantFrom(["get", "append"], ["get", "put", "append"], ["get", "get", "append", "put"]),
  // A get made to return another get's value, the initial null, or a value with one append dropped.
  mutation: fc.option(fc.nat(), { nil: null }),
  // Written values drawn from so many (repeated values), or unique (null).
  valueCount: fc.constantFrom(null, 2, 3),
});

/** The kv plugin writing only `valueCount` distinct put values and as many appended ones. */
function repeatingKv(valueCount: number): Plugin<unknown> {
  const plugin = kvPlugin as Plugin<unknown>;
  const operations = plugin.operations;
  return {
    ...plugin,
    operations: {
      ...operations,
      put: { ...(operations["put"] as OperationSpec), argument: ({ unique }) => `p${unique % valueCount}` },
      append: { ...(operations["append"] as OperationSpec), argument: ({ unique }) => `${unique % valueCount} ` },
    },
  };
}

type AppendScenario = typeof appendScenarios extends fc.Arbitrary<infer Scenario> ? Scenario : never;

function appendHistory(scenario: AppendScenario): ClientEvent[] {
  const random = seededRandom(scenario.seed);
  const events = simulateHistory(scenario.valueCount === null ? (kvPlugin as Plugin<unknown>) : repeatingKv(scenario.valueCount), {
    clientCount: scenario.clientCount,
    operationCount: scenario.operationCount,
    keys: scenario.keys,
    infoProbability: scenario.infoProbability,
    failProbability: 0.1,
    random,
    operationNames: scenario.operationNames,
  });
  if (scenario.mutation !== null) {
    mutateRead(events, scenario.mutation, random);
  }
  return events;
}

function mutateRead(events: ClientEvent[], choice: number, random: () => number): void {
  const reads = events.filter((event) => event.type === "ok" && event.f === "get");
  const target = reads[choice % Math.max(1, reads.length)];
  if (target === undefined) {
    return;
  }
  const seen: Json[] = [null, ...reads.map((event) => event.value)];
  if (typeof target.value === "string" && random() < 0.5) {
    // Appended values end with a space: drop one of them from the list.
    const tokens = target.value.split(" ").slice(0, -1);
    tokens.splice(Math.floor(random() * tokens.length), 1);
    target.value = tokens.length === 0 ? null : tokens.map((token) => `${token} `).join("");
    return;
  }
  target.value = seen[Math.floor(random() * seen.length)] ?? null;
}

describe("checker agrees with brute force: kv append histories", () => {
  test("on random small histories with stale, reordered and shortened reads and info operations", () => {
    const verdicts = { ok: 0, illegal: 0 };
    let okWithoutInfo = 0;
    let decidedWithoutSearch = 0;
    let repeatedDecided = 0;
    fc.assert(
      fc.property(appendScenarios, (scenario) => {
        const { operations } = historyOperations(appendHistory(scenario));
        const expected = isLinearizableBruteForce(kvPlugin.model, operations) ? "ok" : "illegal";
        verdicts[expected] += 1;
        const result = checkOperations(kvPlugin.model, operations);
        expect(result.verdict).toBe(expected);
        if (expected === "ok" && operations.every((operation) => operation.type === "ok")) {
          okWithoutInfo += 1;
          const decided = result.partitions.every((partition) => partition.iterations === 0);
          decidedWithoutSearch += decided ? 1 : 0;
          repeatedDecided += decided && scenario.valueCount !== null ? 1 : 0;
        }
      }),
      { numRuns: 4000 },
    );
    expect(verdicts.ok).toBeGreaterThan(600);
    expect(verdicts.illegal).toBeGreaterThan(300);
    // The reasoning decides most linearizable histories (90% when written; an append no read saw may
    // still need a search).
    expect(decidedWithoutSearch).toBeGreaterThan(okWithoutInfo * 0.75);
    // With repeated values too (two thirds of the runs), when the cuts place each write.
    expect(repeatedDecided).toBeGreaterThan(okWithoutInfo / 3);
  });

  const timed = (f: string, value: Json, result: Json | undefined, call: number, ret: number) => ({
    input: { f, key: "k", value },
    outcome: result === undefined ? { known: false as const } : { known: true as const, value: result },
    call,
    ret,
  });

  test("a read cuts into the put and appends it saw, in order", () => {
    const operations = [timed("put", "p", null, 0, 1), timed("append", "x", null, 2, 3), timed("append", "y", null, 4, 5), timed("get", null, "pxy", 6, 7)];
    const found = appendMappingOf(operations);
    expect(found).not.toBeNull();
    expect(found?.unseen).toEqual([]);
    expect(replays(operations, [0, 1, 2, 3])).toBe(true);
    // Not a linearization: the read needs both appends, and real time puts the get last.
    expect(replays(operations, [0, 1, 3, 2])).toBe(false);
    expect(replays(operations, [0, 2, 1, 3])).toBe(false);
  });

  test("a value with two cuts is left to the search", () => {
    const twoCuts = [timed("append", "a", null, 0, 1), timed("append", "b", null, 0, 1), timed("append", "ab", null, 0, 1), timed("get", null, "ab", 2, 3)];
    expect(appendMappingOf(twoCuts)).toBeNull();
  });

  test("a value appended twice is two writes where a read saw both", () => {
    const operations = [timed("append", "a", null, 0, 1), timed("append", "a", null, 2, 3), timed("get", null, "aa", 4, 5)];
    const found = appendMappingOf(operations);
    expect(found?.mapping.writeOf).toEqual([null, 0, 1]);
    expect(found?.unseen).toEqual([]);
  });
});
