// The segmented search (segment-search.ts) against brute force, on small kv histories built in
// rounds so that they have quiescent points: repeated values (so the kv read-mapping leaves them
// to the search), info operations before and after cuts (an info op removes every later cut),
// operations left open across a round (no cut there), and a mutated result (an illegal segment).
import { describe, expect, test } from "vitest";
import type { Json, Operation } from "../plugins/api.js";
import type { ClientEvent } from "../history/event.js";
import { seededRandom } from "../lib/rng.js";
import { isLinearizableBruteForce } from "./brute-force.js";
import { checkOperations, readOnlyOperations } from "./linearizable.js";
import { historyOperations, type HistoryOperation } from "./operations.js";
import { quiescentSegments, searchSegments } from "./segment-search.js";
import { testKvPlugin } from "./testing/test-plugins.js";

const model = testKvPlugin.model;
const generous = { endStatesMax: 64, nodesMax: 1_000_000, segmentOperationsMax: 1024, segmentShareMax: 1 };

/**
 * Rounds of 1-3 concurrent operations on one or two keys with values 0..2: all invoked, applied
 * in a random order, then completed in a random order (so linearizable), an op sometimes left
 * open into the next round; then maybe one ok result replaced.
 */
function roundsHistory(seed: number): ClientEvent[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const machine = testKvPlugin.createStateMachine();
  const events: ClientEvent[] = [];
  const emit = (event: Omit<ClientEvent, "index" | "time">): ClientEvent => {
    const full = { ...event, index: events.length, time: events.length * 1000 };
    events.push(full);
    return full;
  };
  const value = (): string => String(Math.floor(random() * 3));
  const keys = random() < 0.7 ? ["a"] : ["a", "b"];
  let process = 0;
  interface Call {
    call: Operation & { key: string };
    process: number;
    result: Json;
  }
  let carried: Call | null = null;
  const rounds = 2 + Math.floor(random() * 4);
  for (let round = 0; round < rounds; round += 1) {
    const calls = Array.from({ length: 1 + Math.floor(random() * 3) }, (): Call => {
      const f = pick(["get", "put", "put", "cas"]);
      const argument: Json = f === "get" ? null : f === "put" ? value() : [value(), value()];
      const call = { f, key: pick(keys), value: argument };
      emit({ process, type: "invoke", ...call });
      return { call, process: process++, result: null as Json };
    });
    for (const index of shuffled(calls.length, random)) {
      const entry = calls[index]!;
      // An info op may not have taken effect.
      entry.result = random() < 0.85 ? machine.apply(entry.call) : "skipped";
    }
    const completing: Call[] = carried === null ? calls : [carried, ...calls];
    carried = null;
    for (const index of shuffled(completing.length, random)) {
      const entry = completing[index]!;
      if (index > 0 && random() < 0.1 && round < rounds - 1 && carried === null) {
        carried = entry;
        continue;
      }
      const info = entry.result === "skipped" || random() < 0.05;
      emit({ process: entry.process, type: info ? "info" : "ok", f: entry.call.f, key: entry.call.key, value: info ? entry.call.value : entry.result });
    }
  }
  if (carried !== null) {
    emit({ process: carried.process, type: "ok", f: carried.call.f, key: carried.call.key, value: carried.result });
  }
  if (random() < 0.4) {
    const oks = events.filter((event) => event.type === "ok");
    const target = pick(oks);
    if (target !== undefined) {
      target.value = typeof target.value === "boolean" ? !target.value : target.f === "get" ? pick([null, "0", "1", "2"]) : target.value;
    }
  }
  return events;
}

function shuffled(count: number, random: () => number): number[] {
  const order = Array.from({ length: count }, (_, index) => index);
  for (let index = count - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [order[index], order[other]] = [order[other]!, order[index]!];
  }
  return order;
}

describe("segmented search agrees with brute force", () => {
  test("on seeded round histories with quiescent points, repeated values, info ops and illegal segments", () => {
    const seen = { ok: 0, illegal: 0, segmented: 0, infoBeforeLastCut: 0, gaveUp: 0 };
    for (let seed = 0; seed < 3000; seed += 1) {
      const { operations } = historyOperations(roundsHistory(seed));
      const expected = isLinearizableBruteForce(model, operations) ? "ok" : "illegal";
      seen[expected] += 1;
      // Through the checker, segmenting every partition however small.
      const result = checkOperations(model, operations, { segmentOperationsMin: 0, readOnly: readOnlyOperations(testKvPlugin) });
      expect(result.verdict).toBe(expected);
      // And directly, per key.
      for (const key of new Set(operations.map((operation) => operation.input.key as string))) {
        const partition = operations.filter((operation) => operation.input.key === key);
        const segments = quiescentSegments(partition);
        expectCutsQuiescent(segments);
        const infoInEarlierSegment = segments.slice(0, -1).some((segment) => segment.some((operation) => operation.type === "info"));
        expect(infoInEarlierSegment).toBe(false);
        seen.infoBeforeLastCut += segments.length > 1 && segments.at(-1)!.some((operation) => operation.type === "info") ? 1 : 0;
        // Odd seeds with the read-only pruning.
        const outcome = searchSegments(model, partition, generous, seed % 2 === 1 ? readOnlyOperations(testKvPlugin) : undefined);
        if (outcome === null) {
          seen.gaveUp += segments.length > 1 ? 1 : 0;
          continue;
        }
        seen.segmented += 1;
        const partitionExpected = isLinearizableBruteForce(model, partition) ? "ok" : "illegal";
        expect(outcome.verdict).toBe(partitionExpected);
        // What the report shows must hold: the order (or prefix) replays, real time included.
        const order = outcome.verdict === "ok" ? outcome.order : outcome.prefix;
        expectReplays(order);
        if (outcome.verdict === "ok") {
          expect(order.filter((operation) => operation.type === "ok").length).toBe(partition.filter((operation) => operation.type === "ok").length);
        } else {
          expect(order).not.toContain(outcome.blocked);
          expect(outcome.blocked.type).toBe("ok");
        }
      }
    }
    expect(seen.ok).toBeGreaterThan(500);
    expect(seen.illegal).toBeGreaterThan(300);
    expect(seen.segmented).toBeGreaterThan(1500);
    expect(seen.infoBeforeLastCut).toBeGreaterThan(50);
    expect(seen.gaveUp).toBe(0);
  });

  test("past the end-state cap or the node budget it gives up, and the checker still decides", () => {
    let checked = 0;
    for (let seed = 0; checked < 50; seed += 1) {
      const { operations } = historyOperations(roundsHistory(seed));
      const partition = operations.filter((operation) => operation.input.key === "a");
      if (quiescentSegments(partition).length < 2) {
        continue;
      }
      checked += 1;
      expect(searchSegments(model, partition, { ...generous, endStatesMax: 0 })).toBeNull();
      expect(searchSegments(model, partition, { ...generous, nodesMax: 0 })).toBeNull();
    }
  });
});

/** Every operation of a segment returned before any operation of a later one was invoked. */
function expectCutsQuiescent(segments: readonly HistoryOperation[][]): void {
  segments.forEach((segment, index) => {
    const next = segments[index + 1];
    if (next !== undefined) {
      const lastReturn = Math.max(...segment.map((operation) => operation.completionIndex));
      expect(lastReturn).toBeLessThan(Math.min(...next.map((operation) => operation.invokeIndex)));
    }
  });
}

function expectReplays(order: readonly HistoryOperation[]): void {
  let state = model.init();
  order.forEach((operation, position) => {
    const next = model.step(state, operation.input, operation.outcome);
    expect(next).toBeDefined();
    state = next!;
    // No later op in the order returned before this one was invoked.
    for (const later of order.slice(position + 1)) {
      expect(later.completionIndex < operation.invokeIndex).toBe(false);
    }
  });
}
