// The checks of the plugin compliance suite (see compliance.ts). Random sequences come from the
// plugin's own operation specs, with a fixed fast-check seed so a failure replays; fast-check
// shrinks it to a short sequence before reporting.
import fc from "fast-check";
import { expect } from "vitest";
import { PluginError, type Operation, type Plugin, type SnapshotReader, type SnapshotWriter, type StateMachine } from "./api.js";
import {
  applyAll,
  buildOperations,
  buildRawOperations,
  describeTrace,
  jsonRoundTrip,
  known,
  stepsArbitrary,
  UNKNOWN,
  walkModel,
  wrongResults,
} from "./compliance-sequences.js";

export interface ComplianceOptions {
  /** fast-check seed; fixed by default so runs are repeatable. */
  seed?: number;
  /** Random sequences per property. */
  runs?: number;
  /** Longest generated sequence. */
  operationsMax?: number;
  /** Keys that keyed operations pick from; few, so operations collide. */
  keys?: readonly string[];
  /** More byte strings that restore must refuse, on top of the built-in garbage. */
  garbageSnapshots?: readonly Uint8Array[];
}

const DEFAULT_SEED = 20_240_601;
const UNKNOWN_OPERATION_NAME = "__raftlab_compliance_no_such_operation__";

export interface ComplianceCheck {
  /** Short stable name, e.g. "snapshot-restore". */
  id: string;
  /** What the check asserts, as a test title. */
  name: string;
  /** Throws (a vitest assertion error, wrapped by fast-check with the shrunk counterexample) on failure. */
  run(): void;
}

/** The suite as plain checks, so a test can also show that each one catches a broken plugin. */
export function pluginComplianceChecks<S>(plugin: Plugin<S>, options: ComplianceOptions = {}): ComplianceCheck[] {
  const keys = options.keys ?? ["k0", "k1", "k2"];
  const settings = { seed: options.seed ?? DEFAULT_SEED, numRuns: options.runs ?? 100 };
  const steps = stepsArbitrary(plugin as Plugin, keys.length, options.operationsMax ?? 40);
  const { model } = plugin;
  const property = (check: (operations: Operation[]) => void): void => {
    assertProperty(
      fc.property(steps, (generated) => check(buildOperations(plugin as Plugin, generated, keys))),
      settings,
    );
  };
  const propertyWithCut = (check: (operations: Operation[], cut: number) => void): void => {
    assertProperty(
      fc.property(steps, fc.nat(), (generated, cutSeed) => {
        const operations = buildOperations(plugin as Plugin, generated, keys);
        check(operations, cutSeed % (operations.length + 1));
      }),
      settings,
    );
  };

  return [
    {
      id: "arguments-json",
      name: "has operation specs whose arguments survive JSON",
      run: () => {
        expect(Object.keys(plugin.operations).length).toBeGreaterThan(0);
        assertProperty(
          fc.property(steps, (generated) => {
            for (const operation of buildRawOperations(plugin as Plugin, generated, keys)) {
              expect(operation.value, `argument of ${operation.f}`).not.toBeUndefined();
              expect(jsonRoundTrip(operation.value), `argument of ${operation.f} after JSON`).toEqual(operation.value);
            }
          }),
          settings,
        );
      },
    },
    {
      id: "model-accepts-results",
      name: "the model accepts every result the state machine gives (as JSON, as the wire carries it)",
      run: () => {
        property((operations) => {
          const results = applyAll(plugin.createStateMachine(), operations);
          walkModel(model, operations, results, (state, operation, result, index) => {
            expect(jsonRoundTrip(result), `result of operation ${index} survives JSON`).toEqual(result);
            const next = model.step(state, operation, known(jsonRoundTrip(result)));
            expect(
              next,
              `model refused operation ${index} in state ${model.describeState(state)}:\n${describeTrace(model, operations, results)}`,
            ).not.toBeUndefined();
            expect(typeof model.describeOperation(operation, known(result))).toBe("string");
            expect(typeof model.describeState(next as S)).toBe("string");
            return next as S;
          });
        });
      },
    },
    {
      id: "unknown-outcomes",
      name: "unknown outcomes are always legal and lead where the actual result leads",
      run: () => {
        property((operations) => {
          const results = applyAll(plugin.createStateMachine(), operations);
          walkModel(model, operations, results, (state, operation, result, index) => {
            // Also every other operation from this state: an `info` op may be anything the client sent.
            for (const other of operations) {
              if (model.partitionKey(other) === model.partitionKey(operation)) {
                expect(model.step(state, other, UNKNOWN), `unknown outcome of ${other.f} refused`).not.toBeUndefined();
              }
            }
            const afterKnown = model.step(state, operation, known(result)) as S;
            const afterUnknown = model.step(state, operation, UNKNOWN);
            expect(afterUnknown, `unknown outcome of operation ${index} refused`).not.toBeUndefined();
            expect(model.stateKey(afterUnknown as S), `state after operation ${index}, unknown vs known outcome`).toBe(model.stateKey(afterKnown));
            return afterKnown;
          });
        });
      },
    },
    {
      id: "step-pure",
      name: "model.step mutates neither the state nor the operation, and equal states have equal keys",
      run: () => {
        property((operations) => {
          const results = applyAll(plugin.createStateMachine(), operations);
          walkModel(model, operations, results, (state, operation, result) => {
            const keyBefore = model.stateKey(state);
            const stateBefore = cloneIfPossible(state);
            const operationBefore = structuredClone(operation);
            model.step(state, operation, UNKNOWN);
            const next = model.step(state, operation, known(result)) as S;
            model.step(state, operation, known(wrongResults(result)[0] ?? null));
            expect(model.stateKey(state), `stateKey after stepping ${operation.f}`).toBe(keyBefore);
            if (stateBefore.cloned) {
              expect(state, `state after stepping ${operation.f}`).toEqual(stateBefore.value);
              expect(model.stateKey(stateBefore.value), "stateKey of a copy of the state").toBe(keyBefore);
            }
            expect(operation).toEqual(operationBefore);
            return next;
          });
        });
      },
    },
    {
      id: "reads-strict",
      name: "the model refuses wrong results of read-only operations",
      run: () => {
        property((operations) => {
          const results = applyAll(plugin.createStateMachine(), operations);
          walkModel(model, operations, results, (state, operation, result) => {
            if (plugin.operations[operation.f]?.readOnly === true) {
              for (const wrong of wrongResults(result)) {
                expect(
                  model.step(state, operation, known(wrong)),
                  `model accepted ${model.describeOperation(operation, known(wrong))} in state ${model.describeState(state)}`,
                ).toBeUndefined();
              }
            }
            return model.step(state, operation, known(result)) as S;
          });
        });
      },
    },
    {
      id: "reads-unchanged",
      name: "read-only operations leave the state machine unchanged",
      run: () => {
        property((operations) => {
          const machine = plugin.createStateMachine();
          for (const operation of operations) {
            const before = machine.snapshot();
            machine.apply(operation);
            if (plugin.operations[operation.f]?.readOnly === true) {
              expect(machine.snapshot(), `${operation.f} changed the state`).toEqual(before);
            }
          }
        });
      },
    },
    {
      id: "partition-independent",
      name: "results depend only on operations of the same partition (checking by partition is sound)",
      run: () => {
        property((operations) => {
          const results = applyAll(plugin.createStateMachine(), operations);
          const machines = new Map<string | null, StateMachine>();
          operations.forEach((operation, index) => {
            const partition = model.partitionKey(operation);
            const machine = machines.get(partition) ?? plugin.createStateMachine();
            machines.set(partition, machine);
            expect(machine.apply(operation), `operation ${index} (${operation.f}) applied to its partition alone`).toEqual(results[index]);
          });
        });
      },
    },
    {
      id: "snapshot-restore",
      name: "snapshot then restore, at any point and into any machine, gives the same later results",
      run: () => {
        propertyWithCut((operations, cut) => {
          const original = plugin.createStateMachine();
          applyAll(original, operations.slice(0, cut));
          const restored = plugin.createStateMachine();
          applyAll(restored, operations.slice(cut).reverse()); // state that restore must replace entirely
          restored.restore(original.snapshot());
          expect(restored.snapshot()).toEqual(original.snapshot());
          const rest = operations.slice(cut);
          expect(applyAll(restored, rest)).toEqual(applyAll(original, rest));
          expect(restored.snapshot()).toEqual(original.snapshot());
        });
      },
    },
    {
      id: "frozen-snapshot",
      name: "beginSnapshot (if implemented) writes the state as it was when called, while later operations apply between slices",
      run: () => {
        if (plugin.createStateMachine().beginSnapshot === undefined) {
          return; // optional: such a plugin is serialised with snapshot() in one go
        }
        propertyWithCut((operations, cut) => {
          const machine = plugin.createStateMachine();
          applyAll(machine, operations.slice(0, cut));
          const expected = machine.snapshot();
          const writer = machine.beginSnapshot?.();
          if (writer === undefined) {
            throw new Error("beginSnapshot returned nothing");
          }
          const rest = operations.slice(cut);
          const slices: Uint8Array[] = [];
          // Tiny slices, with one later operation applied after each.
          for (let slice = writer.next(1), next = 0; slice !== undefined; slice = writer.next(1)) {
            expect(slice, "a slice must be a Uint8Array").toBeInstanceOf(Uint8Array);
            slices.push(slice);
            const operation = rest[next++];
            if (operation !== undefined) {
              applyAll(machine, [operation]);
            }
          }
          const bytes = new Uint8Array(slices.reduce((sum, slice) => sum + slice.length, 0));
          slices.reduce((offset, slice) => (bytes.set(slice, offset), offset + slice.length), 0);
          const restored = plugin.createStateMachine();
          restored.restore(bytes);
          expect(restored.snapshot(), "the slices restore to the state at beginSnapshot").toEqual(expected);
        });
      },
    },
    {
      id: "sliced-restore",
      name: "beginRestore (if implemented) in slices of any size gives restore()'s machine, keeps the old state until finish, and a bad snapshot leaves it intact",
      run: () => {
        if (plugin.createStateMachine().beginRestore === undefined) {
          return; // optional: such a plugin is restored with restore() in one go
        }
        propertyWithCut((operations, cut) => {
          const original = plugin.createStateMachine();
          applyAll(original, operations.slice(0, cut));
          const formats = [original.snapshot()];
          const writer = original.beginSnapshot?.();
          if (writer !== undefined) {
            formats.push(concatBytes([...sliceAll(writer, 5)]));
          }
          for (const bytes of formats) {
            const oneGo = plugin.createStateMachine();
            oneGo.restore(bytes);
            const expected = oneGo.snapshot();
            for (const sliceBytes of [1, 3, 64, Math.max(1, bytes.length)]) {
              const target = plugin.createStateMachine();
              applyAll(target, operations.slice(cut).reverse()); // state that the restore must replace entirely
              const before = target.snapshot();
              const reader = beginRestoreOf(target);
              for (let offset = 0; offset < bytes.length; offset += sliceBytes) {
                reader.push(bytes.subarray(offset, offset + sliceBytes));
              }
              expect(target.snapshot(), `the old state stays in force until finish (slices of ${sliceBytes} bytes)`).toEqual(before);
              reader.finish();
              expect(target.snapshot(), `slices of ${sliceBytes} bytes restore what restore() does`).toEqual(expected);
            }
            // A truncated snapshot fails (at a push or at finish) and leaves the state as it was.
            if (bytes.length > 0) {
              const target = plugin.createStateMachine();
              applyAll(target, operations.slice(cut));
              const before = target.snapshot();
              const error = thrownBy(() => {
                const reader = beginRestoreOf(target);
                reader.push(bytes.subarray(0, bytes.length - 1));
                reader.finish();
              });
              expect(error, "a truncated snapshot throws PluginError").toBeInstanceOf(PluginError);
              expect(target.snapshot(), "a failed restore leaves the state intact").toEqual(before);
            }
          }
        });
      },
    },
    {
      id: "deterministic",
      name: "is deterministic: machines fed the same operations give the same results and snapshots",
      run: () => {
        property((operations) => {
          const first = plugin.createStateMachine();
          const second = plugin.createStateMachine();
          expect(applyAll(second, operations)).toEqual(applyAll(first, operations));
          expect(second.snapshot()).toEqual(first.snapshot());
        });
      },
    },
    {
      id: "garbage-snapshot",
      name: "restore of garbage bytes throws PluginError BAD_SNAPSHOT",
      run: () => {
        const emptySnapshot = plugin.createStateMachine().snapshot();
        const garbage: Uint8Array[] = [
          new Uint8Array([0xff, 0xfe, 0x00, 0x01, 0x80, 0xc3]),
          new TextEncoder().encode("\u0000 not a snapshot {["),
          ...(options.garbageSnapshots ?? []),
        ];
        if (emptySnapshot.byteLength > 0) {
          garbage.push(new Uint8Array());
        }
        for (const bytes of garbage) {
          const error = thrownBy(() => plugin.createStateMachine().restore(bytes));
          expect(error, `restore of ${bytes.byteLength} garbage bytes`).toBeInstanceOf(PluginError);
          expect((error as PluginError).code).toBe("BAD_SNAPSHOT");
        }
      },
    },
    {
      id: "unknown-operation",
      name: "an unknown operation throws PluginError UNKNOWN_OPERATION and changes nothing",
      run: () => {
        property((operations) => {
          const machine = plugin.createStateMachine();
          applyAll(machine, operations);
          const before = machine.snapshot();
          for (const key of [null, keys[0] ?? "k0"]) {
            const error = thrownBy(() => machine.apply({ f: UNKNOWN_OPERATION_NAME, key, value: null }));
            expect(error).toBeInstanceOf(PluginError);
            expect((error as PluginError).code).toBe("UNKNOWN_OPERATION");
          }
          expect(machine.snapshot()).toEqual(before);
        });
      },
    },
  ];
}

/**
 * fc.assert, with the failing assertion's own message first: fast-check's message names only the
 * counterexample, and plugin authors need both (and the seed and path that replay it).
 */
function assertProperty<T>(property: fc.IProperty<T>, settings: fc.Parameters<T>): void {
  const details = fc.check(property, settings);
  if (!details.failed) {
    return;
  }
  const cause: unknown = details.errorInstance;
  const reason = cause instanceof Error ? cause.message : String(cause);
  throw new Error(
    `${reason}\n\ncounterexample (shrunk ${details.numShrinks} times): ${fc.stringify(details.counterexample)}\n` +
      `replay with { seed: ${details.seed}, path: "${details.counterexamplePath ?? ""}" }`,
    { cause },
  );
}

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** A deep copy of a state, when it has one (a state holding functions cannot be cloned). */
function cloneIfPossible<S>(state: S): { cloned: true; value: S } | { cloned: false } {
  try {
    return { cloned: true, value: structuredClone(state) };
  } catch {
    return { cloned: false };
  }
}

function beginRestoreOf(machine: StateMachine): SnapshotReader {
  const reader = machine.beginRestore?.();
  if (reader === undefined) {
    throw new Error("beginRestore returned nothing");
  }
  return reader;
}

function* sliceAll(writer: SnapshotWriter, budgetBytes: number): Generator<Uint8Array> {
  for (let slice = writer.next(budgetBytes); slice !== undefined; slice = writer.next(budgetBytes)) {
    yield slice;
  }
}

function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  chunks.reduce((offset, chunk) => (bytes.set(chunk, offset), offset + chunk.length), 0);
  return bytes;
}
