// The checker against a brute-force checker on small random concurrent histories, some
// linearizable by construction, some with a mutated result, with info and fail operations.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Json, Plugin } from "../../plugins/api.js";
import type { ClientEvent } from "../history/event.js";
import { seededRandom, simulateHistory } from "../history/simulate-history.js";
import { isLinearizableBruteForce } from "./brute-force.js";
import { checkOperations, readOnlyOperations } from "./linearizable.js";
import { pairOperations } from "./operations.js";
import { testCounterPlugin, testKvPlugin, testQueuePlugin } from "./test-plugins.js";

interface Scenario {
  seed: number;
  clientCount: number;
  operationCount: number;
  infoProbability: number;
  keys: readonly string[];
  /** When set, one ok result is replaced by another result seen in the history (or a flip). */
  mutation: number | null;
}

const scenarios = fc.record({
  seed: fc.integer(),
  clientCount: fc.integer({ min: 1, max: 5 }),
  operationCount: fc.integer({ min: 1, max: 10 }),
  infoProbability: fc.constantFrom(0, 0.1, 0.3),
  keys: fc.constantFrom(["a"], ["a", "b"]),
  mutation: fc.option(fc.nat(), { nil: null }),
});

function buildHistory(plugin: Plugin<unknown>, scenario: Scenario): ClientEvent[] {
  const random = seededRandom(scenario.seed);
  const events = simulateHistory(plugin, {
    clientCount: scenario.clientCount,
    operationCount: scenario.operationCount,
    keys: scenario.keys,
    infoProbability: scenario.infoProbability,
    failProbability: 0.1,
    random,
  });
  if (scenario.mutation !== null) {
    mutateOneResult(events, scenario.mutation, random);
  }
  return events;
}

function mutateOneResult(events: ClientEvent[], choice: number, random: () => number): void {
  const completions = events.filter((event) => event.type === "ok");
  if (completions.length === 0) {
    return;
  }
  const target = completions[choice % completions.length] as ClientEvent;
  const others: Json[] = completions.map((event) => event.value);
  if (typeof target.value === "boolean") {
    target.value = !target.value;
  } else if (typeof target.value === "number") {
    target.value += random() < 0.5 ? 1 : -1;
  } else {
    target.value = others[Math.floor(random() * others.length)] ?? "0";
  }
}

const plugins: [string, Plugin<unknown>][] = [
  ["kv", testKvPlugin as Plugin<unknown>],
  ["counter", testCounterPlugin as Plugin<unknown>],
  ["queue", testQueuePlugin as Plugin<unknown>],
];

describe.each(plugins)("checker agrees with brute force: %s", (_name, plugin) => {
  test("on random small histories", () => {
    const verdicts = { ok: 0, illegal: 0 };
    fc.assert(
      fc.property(scenarios, (scenario) => {
        const { operations } = pairOperations(buildHistory(plugin, scenario));
        const expected = isLinearizableBruteForce(plugin.model, operations) ? "ok" : "illegal";
        verdicts[expected] += 1;
        expect(checkOperations(plugin.model, operations).verdict).toBe(expected);
        const readOnly = readOnlyOperations(plugin);
        expect(checkOperations(plugin.model, operations, { readOnly }).verdict).toBe(expected);
      }),
      { numRuns: 1000 },
    );
    // Both verdicts must be exercised, or the comparison proves little.
    expect(verdicts.ok).toBeGreaterThan(50);
    expect(verdicts.illegal).toBeGreaterThan(20);
  });
});
