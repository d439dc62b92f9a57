// Random operation sequences for the compliance suite, built from a plugin's own operation specs
// the way a workload generator would: keyed operations on a few shared keys, run-wide unique
// numbers, and each argument's `random` seeded from the sequence so a failing case replays.
import fc from "fast-check";
import type { Json, Model, Operation, Outcome, Plugin, StateMachine } from "./api.js";
import { seededRandom } from "../lib/rng.js";

/** One step as fast-check generates (and shrinks) it, before the plugin builds its argument. */
export interface GeneratedStep {
  f: string;
  keyIndex: number;
  argumentSeed: number;
}

export function stepsArbitrary(plugin: Plugin, keyCount: number, operationsMax: number): fc.Arbitrary<GeneratedStep[]> {
  const names = Object.keys(plugin.operations);
  return fc.array(
    fc.record({
      f: fc.constantFrom(...names),
      keyIndex: fc.nat({ max: keyCount - 1 }),
      argumentSeed: fc.integer(),
    }),
    { maxLength: operationsMax },
  );
}

/** Turns generated steps into the operations a client would send (after a JSON round trip). */
export function buildOperations(plugin: Plugin, steps: readonly GeneratedStep[], keys: readonly string[]): Operation[] {
  return buildRawOperations(plugin, steps, keys).map(jsonRoundTrip);
}

/** The operations as the specs make them, before the wire's JSON round trip. */
export function buildRawOperations(plugin: Plugin, steps: readonly GeneratedStep[], keys: readonly string[]): Operation[] {
  return steps.map((step, index) => {
    const spec = plugin.operations[step.f];
    if (spec === undefined) {
      throw new Error(`invariant: generated operation "${step.f}" is one of the plugin's`);
    }
    const key = spec.keyed ? (keys[step.keyIndex] ?? null) : null;
    const value = spec.argument({ key, unique: index + 1, random: seededRandom(step.argumentSeed) });
    return { f: step.f, key, value };
  });
}

export function jsonRoundTrip<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function applyAll(machine: StateMachine, operations: readonly Operation[]): Json[] {
  return operations.map((operation) => machine.apply(operation));
}

export function known(value: Json): Outcome {
  return { known: true, value };
}

export const UNKNOWN: Outcome = { known: false };

/**
 * Walks the model the way the checker does, one state per partition, calling `visit` with each
 * operation, the state it applies to and the state machine's result; `visit` returns the next state.
 */
export function walkModel<S>(
  model: Model<S>,
  operations: readonly Operation[],
  results: readonly Json[],
  visit: (state: S, operation: Operation, result: Json, index: number) => S,
): void {
  const states = new Map<string | null, S>();
  operations.forEach((operation, index) => {
    const partition = model.partitionKey(operation);
    const state = states.has(partition) ? (states.get(partition) as S) : model.init();
    states.set(partition, visit(state, operation, results[index] ?? null, index));
  });
}

/** A numbered listing of operations and results, for failure messages. */
export function describeTrace<S>(model: Model<S>, operations: readonly Operation[], results: readonly Json[]): string {
  return operations.map((operation, index) => `  ${index}: ${model.describeOperation(operation, known(results[index] ?? null))}`).join("\n");
}

/** Values no sane read returns next to `result`: each differs from it, so the model must refuse all. */
export function wrongResults(result: Json): Json[] {
  const sentinel = "\u0000raftlab-compliance: impossible result\u0000";
  const candidates: Json[] = [sentinel, { [sentinel]: true }];
  if (typeof result === "number") {
    candidates.push(result + 1, -result - 1);
  }
  if (Array.isArray(result)) {
    candidates.push([...result, sentinel]);
  }
  if (typeof result === "string") {
    candidates.push(result + sentinel);
  }
  if (result !== null) {
    candidates.push(null);
  }
  return candidates;
}
