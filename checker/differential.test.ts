// The checker against a brute-force checker on small random concurrent histories, some
// linearizable by construction, some with a mutated result, with info and fail operations.
// The brute force steps only the plain model, so this also checks every model's prepareHistory
// hook (the queue's: omissions, precedences and its lazy model).
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Json, Plugin } from "../plugins/api.js";
import type { ClientEvent } from "../history/event.js";
import { simulateHistory } from "../history/simulate-history.js";
import { seededRandom } from "../lib/rng.js";
import { isLinearizableBruteForce } from "./brute-force.js";
import { checkOperations, readOnlyOperations, UnpartitionableOperationError } from "./linearizable.js";
import { historyOperations, type HistoryOperation } from "./operations.js";
import type { ViolationWitness } from "./violation-witness.js";
import { allInfoStrategies } from "./portfolio-search.js";
import { counterPlugin } from "../plugins/counter/index.js";
import { kvPlugin } from "../plugins/kv/index.js";
import { queuePlugin } from "../plugins/queue/index.js";
import { testKvPlugin } from "./testing/test-plugins.js";

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

// The built-in plugins, plus a kv that writes only "0".."2": repeated values make ambiguous
// histories (a write that is a no-op here may be needed later), which unique values never do.
const plugins: [string, Plugin<unknown>][] = [
  ["kv", kvPlugin as Plugin<unknown>],
  ["counter", counterPlugin as Plugin<unknown>],
  ["queue", queuePlugin as Plugin<unknown>],
  ["kv with repeated values", testKvPlugin as Plugin<unknown>],
];

describe.each(plugins)("checker agrees with brute force: %s", (_name, plugin) => {
  test("on random small histories", () => {
    const verdicts = { ok: 0, illegal: 0 };
    fc.assert(
      fc.property(scenarios, (scenario) => {
        const { operations } = historyOperations(buildHistory(plugin, scenario));
        const expected = isLinearizableBruteForce(plugin.model, operations) ? "ok" : "illegal";
        verdicts[expected] += 1;
        // Every strategy, with and without the read-only hint, must agree on its own.
        const readOnly = readOnlyOperations(plugin);
        for (const strategy of allInfoStrategies) {
          expect(checkOperations(plugin.model, operations, { strategies: [strategy] }).verdict).toBe(expected);
          expect(checkOperations(plugin.model, operations, { readOnly, strategies: [strategy] }).verdict).toBe(expected);
        }
        // And segment by segment wherever there is a cut (checker/segment-search.ts).
        expect(checkOperations(plugin.model, operations, { readOnly, segmentOperationsMin: 0 }).verdict).toBe(expected);
      }),
      { numRuns: 1000 },
    );
    // Both verdicts must be exercised, or the comparison proves little.
    expect(verdicts.ok).toBeGreaterThan(50);
    expect(verdicts.illegal).toBeGreaterThan(20);
  });
});

// The kv's read-mapping inference (plugins/kv/prepare-kv-history.ts) decides get/put/cas
// histories with unique values without a search: its verdicts must be brute force's, it must
// actually decide (get/put always; with cas, unless a failed cas fits nowhere in its first order),
// and every step of a reported cycle must hold in the history.
describe("checker agrees with brute force: kv get/put/cas decided by read-mapping", () => {
  const readMappingScenarios = fc.record({
    seed: fc.integer(),
    clientCount: fc.integer({ min: 1, max: 6 }),
    operationCount: fc.integer({ min: 1, max: 12 }),
    infoProbability: fc.constantFrom(0, 0.1, 0.3),
    keys: fc.constantFrom(["a"], ["a", "b"]),
    operationNames: fc.constantFrom(["get", "put"], ["get", "put", "cas"], ["get", "cas", "cas"]),
    // A get made to return another written value or the initial null, or a cas's result flipped.
    mutation: fc.option(fc.nat(), { nil: null }),
  });

  test("on random small histories with stale reads, flipped cas results and info operations", () => {
    const verdicts = { ok: 0, illegal: 0 };
    let searched = 0;
    let casHistories = 0;
    fc.assert(
      fc.property(readMappingScenarios, (scenario) => {
        const random = seededRandom(scenario.seed);
        const events = simulateHistory(kvPlugin as Plugin<unknown>, {
          clientCount: scenario.clientCount,
          operationCount: scenario.operationCount,
          keys: scenario.keys,
          infoProbability: scenario.infoProbability,
          failProbability: 0.1,
          random,
          operationNames: scenario.operationNames,
        });
        if (scenario.mutation !== null) {
          mutateReadOrCas(events, scenario.mutation, random);
        }
        const { operations } = historyOperations(events);
        const expected = isLinearizableBruteForce(kvPlugin.model, operations) ? "ok" : "illegal";
        verdicts[expected] += 1;
        const result = checkOperations(kvPlugin.model, operations);
        expect(result.verdict).toBe(expected);
        const withCas = operations.some((operation) => operation.input.f === "cas");
        casHistories += withCas ? 1 : 0;
        for (const partition of result.partitions) {
          if (!withCas) {
            expect(partition.iterations).toBe(0);
          }
          searched += partition.iterations > 0 ? 1 : 0;
          if (partition.violationWitness !== undefined) {
            expectCycleHolds(partition.violationWitness);
          }
        }
      }),
      { numRuns: 4000 },
    );
    expect(verdicts.ok).toBeGreaterThan(800);
    expect(verdicts.illegal).toBeGreaterThan(500);
    expect(casHistories).toBeGreaterThan(1500);
    // Most cas histories are decided without a search too.
    expect(searched).toBeLessThan(casHistories / 5);
  });
});

// The counter's sweep (plugins/counter/prepare-counter-history.ts) decides histories of positive
// adds and reads without a search, whatever their unknown-outcome adds: its verdicts must be
// brute force's, and it must decide every one of them.
describe("checker agrees with brute force: counter decided by the sweep", () => {
  const counterScenarios = fc.record({
    seed: fc.integer(),
    clientCount: fc.integer({ min: 1, max: 6 }),
    operationCount: fc.integer({ min: 1, max: 10 }),
    infoProbability: fc.constantFrom(0, 0.2, 0.5),
    // A read's total moved by one or two, up or down.
    mutation: fc.option(fc.tuple(fc.nat(), fc.constantFrom(-2, -1, 1, 2)), { nil: null }),
  });

  test("on random small histories with unknown-outcome adds and wrong totals", () => {
    const verdicts = { ok: 0, illegal: 0 };
    fc.assert(
      fc.property(counterScenarios, (scenario) => {
        const random = seededRandom(scenario.seed);
        const events = simulateHistory(counterPlugin as Plugin<unknown>, {
          clientCount: scenario.clientCount,
          operationCount: scenario.operationCount,
          keys: [],
          infoProbability: scenario.infoProbability,
          failProbability: 0.1,
          random,
        });
        const reads = events.filter((event) => event.type === "ok" && event.f === "read");
        const target = scenario.mutation === null ? undefined : reads[scenario.mutation[0] % Math.max(1, reads.length)];
        if (target !== undefined && scenario.mutation !== null) {
          target.value = Math.max(0, (target.value as number) + scenario.mutation[1]);
        }
        const { operations } = historyOperations(events);
        const expected = isLinearizableBruteForce(counterPlugin.model, operations) ? "ok" : "illegal";
        verdicts[expected] += 1;
        const result = checkOperations(counterPlugin.model, operations);
        expect(result.verdict).toBe(expected);
        for (const partition of result.partitions) {
          expect(partition.iterations).toBe(0);
        }
      }),
      { numRuns: 2000 },
    );
    expect(verdicts.ok).toBeGreaterThan(500);
    expect(verdicts.illegal).toBeGreaterThan(300);
  });
});

function mutateReadOrCas(events: ClientEvent[], choice: number, random: () => number): void {
  const targets = events.filter((event) => event.type === "ok" && (event.f === "get" || event.f === "cas"));
  const target = targets[choice % Math.max(1, targets.length)];
  if (target === undefined) {
    return;
  }
  if (target.f === "cas") {
    target.value = target.value !== true;
    return;
  }
  const written: Json[] = [null];
  for (const event of events) {
    if (event.type === "invoke" && event.f === "put") {
      written.push(event.value);
    } else if (event.type === "invoke" && event.f === "cas" && Array.isArray(event.value)) {
      written.push(event.value[1] ?? null);
    }
  }
  target.value = written[Math.floor(random() * written.length)] ?? null;
}

/** Every order of the witness's cycle holds in the history, and the steps join up. */
function expectCycleHolds(witness: ViolationWitness): void {
  const valueOf = (write: HistoryOperation | null): Json =>
    write === null ? null : write.input.f === "cas" ? ((write.input.value as Json[])[1] ?? null) : write.input.value;
  // `operation` is `write`, a get of its value, or a cas that swapped its value out.
  const wrote = (write: HistoryOperation | null, operation: HistoryOperation): boolean =>
    operation === write ||
    (operation.input.f === "get" && operation.outcome.known && operation.outcome.value === valueOf(write)) ||
    (operation.input.f === "cas" && (operation.input.value as Json[])[0] === valueOf(write));
  expect(witness.cycle.length).toBeGreaterThanOrEqual(1);
  witness.cycle.forEach((step, position) => {
    expect(witness.cycle[(position + 1) % witness.cycle.length]?.before).toBe(step.after);
    switch (step.because) {
      case "real-time":
        expect(step.before !== null && step.after !== null && step.before.completionIndex < step.after.invokeIndex).toBe(true);
        break;
      case "read-from":
        expect(step.after !== null && wrote(step.before, step.after)).toBe(true);
        break;
      case "write-order": {
        if (step.evidence === undefined) {
          expect(step.before).toBeNull();
          break;
        }
        const [earlier, later] = step.evidence;
        expect(earlier.completionIndex < later.invokeIndex).toBe(true);
        expect(wrote(step.before, earlier) && wrote(step.after, later)).toBe(true);
        break;
      }
    }
  });
}

// Partitioning must never change a verdict: the kv model keeps keys apart within one state, so
// checking a history as one partition agrees with brute force too; and an operation the model
// places in no partition (a kv operation without a key) is bad input, never a verdict.
describe("kv keys stay apart whatever the partitioning", () => {
  const onePartition: Plugin<unknown> = { ...kvPlugin, model: { ...kvPlugin.model, partitionKey: () => null } } as Plugin<unknown>;
  const event = (index: number, process: number, type: ClientEvent["type"], f: string, key: string | undefined, value: Json): ClientEvent =>
    key === undefined ? { index, time: index * 1000, process, type, f, value } : { index, time: index * 1000, process, type, f, key, value };

  test("the issue's cases: a read of another key's value is illegal, a keyless get is bad input", () => {
    const staleAcrossKeys = [
      event(0, 0, "invoke", "put", "a", "1"),
      event(1, 0, "ok", "put", "a", null),
      event(2, 1, "invoke", "get", "b", null),
      event(3, 1, "ok", "get", "b", "1"),
    ];
    const keyless = event(4, 2, "invoke", "get", undefined, null);
    const mirror = [
      event(0, 0, "invoke", "put", "a", "1"),
      event(1, 0, "ok", "put", "a", null),
      event(2, 1, "invoke", "put", "b", "2"),
      event(3, 1, "ok", "put", "b", null),
      event(4, 2, "invoke", "get", "a", null),
      event(5, 2, "ok", "get", "a", "1"),
    ];
    const mirrorKeyless = event(6, 3, "invoke", "get", undefined, null);
    for (const [events, expected] of [
      [staleAcrossKeys, "illegal"],
      [mirror, "ok"],
    ] as const) {
      const { operations } = historyOperations(events);
      expect(isLinearizableBruteForce(kvPlugin.model, operations) ? "ok" : "illegal").toBe(expected);
      expect(checkOperations(kvPlugin.model, operations).verdict).toBe(expected);
      expect(checkOperations(onePartition.model, operations).verdict).toBe(expected);
    }
    for (const events of [
      [...staleAcrossKeys, keyless],
      [...mirror, mirrorKeyless],
    ]) {
      const { operations } = historyOperations(events);
      const thrown = thrownBy(() => checkOperations(kvPlugin.model, operations));
      expect(thrown).toBeInstanceOf(UnpartitionableOperationError);
      expect((thrown as UnpartitionableOperationError).operation.invokeIndex).toBe(events.length - 1);
      expect((thrown as UnpartitionableOperationError).message).toBe('kv operation "get" has no key (field "key" must be a string)');
    }
  });

  test("on random small histories over two keys checked as one partition", () => {
    const verdicts = { ok: 0, illegal: 0 };
    fc.assert(
      fc.property(scenarios, (scenario) => {
        const { operations } = historyOperations(buildHistory(kvPlugin as Plugin<unknown>, { ...scenario, keys: ["a", "b"] }));
        const expected = isLinearizableBruteForce(kvPlugin.model, operations) ? "ok" : "illegal";
        verdicts[expected] += 1;
        expect(checkOperations(onePartition.model, operations).verdict).toBe(expected);
      }),
      { numRuns: 500 },
    );
    expect(verdicts.ok).toBeGreaterThan(50);
    expect(verdicts.illegal).toBeGreaterThan(20);
  });

  test("random histories with one operation stripped of its key are bad input naming it", () => {
    fc.assert(
      fc.property(scenarios, fc.nat(), (scenario, choice) => {
        for (const plugin of [kvPlugin as Plugin<unknown>, testKvPlugin as Plugin<unknown>]) {
          const events = buildHistory(plugin, scenario);
          const invokes = events.filter((candidate) => candidate.type === "invoke");
          const stripped = invokes[choice % invokes.length] as ClientEvent;
          delete stripped.key;
          const { operations } = historyOperations(events);
          const keyless = operations.find((operation) => operation.input.key === undefined);
          const thrown = thrownBy(() => checkOperations(plugin.model, operations));
          if (keyless === undefined) {
            // The stripped call failed: it is not an operation of the history.
            expect(thrown).toBeUndefined();
            continue;
          }
          expect(thrown).toBeInstanceOf(UnpartitionableOperationError);
          expect((thrown as UnpartitionableOperationError).operation).toBe(keyless);
          // The model refuses it, not the checker's partitioning.
          expect(() => plugin.model.partitionKey(keyless.input)).toThrow(/has no key/);
        }
      }),
      { numRuns: 300 },
    );
  });
});

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

// The queue's prepareHistory is the riskiest pruning, so the queue gets its own, larger histories
// and mutations aimed at the violations users look for: a value dequeued twice or from nowhere,
// an acknowledged value lost, FIFO order broken.
const queueScenarios = fc.record({
  seed: fc.integer(),
  clientCount: fc.integer({ min: 1, max: 5 }),
  operationCount: fc.integer({ min: 1, max: 12 }),
  infoProbability: fc.constantFrom(0, 0.1, 0.3, 0.5),
  // Uniform, or sizes among many unknown-outcome enqueues and dequeues: what the size bounds
  // of prepare-queue-history.ts (size-bounds.ts) decide.
  operationNames: fc.constantFrom(undefined, ["enqueue", "enqueue", "dequeue", "size", "size"]),
  mutation: fc.option(fc.nat(), { nil: null }),
});

/** A history with an ok size and an unknown-outcome enqueue or dequeue called before it returned. */
function hasSizeAfterUnknownUpdate(events: readonly ClientEvent[]): boolean {
  const { operations } = historyOperations([...events]);
  return operations.some(
    (size) =>
      size.type === "ok" &&
      size.input.f === "size" &&
      operations.some((other) => other.type === "info" && other.input.f !== "size" && other.invokeIndex < size.completionIndex),
  );
}

function mutateQueueHistory(events: ClientEvent[], choice: number, random: () => number): void {
  const dequeued = events.filter((event) => event.type === "ok" && event.f === "dequeue");
  const values = dequeued.map((event) => event.value).filter((value) => value !== null);
  const target = dequeued[choice % Math.max(1, dequeued.length)];
  const size = events.filter((event) => event.type === "ok" && event.f === "size")[choice % 7];
  switch (choice % 5) {
    case 0: // a value dequeued twice (or a made-up one on an empty queue)
      if (target !== undefined) {
        target.value = values[Math.floor(random() * values.length)] ?? 0;
      }
      break;
    case 1: // a value never enqueued
      if (target !== undefined) {
        target.value = 1_000_000;
      }
      break;
    case 2: // an acknowledged value lost: its dequeue says empty
      if (target !== undefined) {
        target.value = null;
      }
      break;
    case 3: {
      // FIFO broken: two dequeues swap their results
      const other = dequeued[(choice >> 3) % Math.max(1, dequeued.length)];
      if (target !== undefined && other !== undefined) {
        [target.value, other.value] = [other.value, target.value];
      }
      break;
    }
    default:
      if (size !== undefined && typeof size.value === "number") {
        size.value += random() < 0.5 ? 1 : -1;
      }
  }
}

describe("checker agrees with brute force: queue with its prepareHistory", () => {
  test("on random small queue histories with info, fail, size and empty dequeues", () => {
    const verdicts = { ok: 0, illegal: 0 };
    let sizesAfterUnknownUpdates = 0;
    const plugin = queuePlugin as Plugin<unknown>;
    const readOnly = readOnlyOperations(plugin);
    fc.assert(
      fc.property(queueScenarios, (scenario) => {
        const random = seededRandom(scenario.seed);
        const events = simulateHistory(plugin, {
          clientCount: scenario.clientCount,
          operationCount: scenario.operationCount,
          keys: [],
          infoProbability: scenario.infoProbability,
          failProbability: 0.1,
          random,
          ...(scenario.operationNames === undefined ? {} : { operationNames: scenario.operationNames }),
        });
        if (scenario.mutation !== null) {
          mutateQueueHistory(events, scenario.mutation, random);
        }
        sizesAfterUnknownUpdates += hasSizeAfterUnknownUpdate(events) ? 1 : 0;
        const { operations } = historyOperations(events);
        const expected = isLinearizableBruteForce(plugin.model, operations) ? "ok" : "illegal";
        verdicts[expected] += 1;
        for (const strategy of allInfoStrategies) {
          expect(checkOperations(plugin.model, operations, { readOnly, strategies: [strategy] }).verdict).toBe(expected);
        }
        // And segment by segment wherever there is a cut (checker/segment-search.ts).
        expect(checkOperations(plugin.model, operations, { readOnly, segmentOperationsMin: 0 }).verdict).toBe(expected);
      }),
      { numRuns: 2000 },
    );
    expect(verdicts.ok).toBeGreaterThan(300);
    expect(verdicts.illegal).toBeGreaterThan(150);
    expect(sizesAfterUnknownUpdates).toBeGreaterThan(300);
  });
});
