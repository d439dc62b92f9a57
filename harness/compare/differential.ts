// The differential check `raftlab compare` runs before any cluster: one seeded operation sequence,
// applied in order to each plugin's state machine, for every pair of plugins with the same
// operations (two versions of one plugin, typically). The first operation whose results differ is
// reported with both results, the way etcd's quick tests pit an implementation against a reference.
import { PluginError, type Json, type Operation, type Plugin } from "../../plugins/api.js";
import { OperationGenerator } from "../generator/generator.js";

export interface DifferentialReport {
  a: string;
  b: string;
  operations: number;
  /** True when every result agreed. */
  agree: boolean;
  /** The first operation where the results differ: its position (0-based), the operation, both results. */
  first_difference: { index: number; operation: Operation; result_a: Json; result_b: Json } | null;
}

export interface DifferentialOptions {
  seed: number;
  operations: number;
  keys: number;
  mix: Readonly<Record<string, number>>;
}

/** Whether two plugins accept the same operations (names, read-only-ness, keyed-ness). */
export function sameOperations(a: Plugin, b: Plugin): boolean {
  const names = (plugin: Plugin): string =>
    Object.entries(plugin.operations)
      .map(([name, spec]) => `${name}:${spec.readOnly}:${spec.keyed}`)
      .sort()
      .join(",");
  return names(a) === names(b);
}

/** Replays one generated sequence through both state machines; stops at the first difference. */
export function replayDifferential(
  a: { label: string; plugin: Plugin },
  b: { label: string; plugin: Plugin },
  options: DifferentialOptions,
): DifferentialReport {
  const generator = new OperationGenerator({
    operations: a.plugin.operations,
    mix: options.mix,
    keys: options.keys,
    distribution: "uniform",
    seed: options.seed,
  });
  const machineA = a.plugin.createStateMachine();
  const machineB = b.plugin.createStateMachine();
  for (let index = 0; index < options.operations; index += 1) {
    const generated = generator.next();
    const operation: Operation = { f: generated.f, key: generated.key, value: generated.value };
    const resultA = applied(machineA.apply.bind(machineA), operation);
    const resultB = applied(machineB.apply.bind(machineB), operation);
    if (JSON.stringify(resultA) !== JSON.stringify(resultB)) {
      return { a: a.label, b: b.label, operations: index + 1, agree: false, first_difference: { index, operation, result_a: resultA, result_b: resultB } };
    }
  }
  return { a: a.label, b: b.label, operations: options.operations, agree: true, first_difference: null };
}

/** The result, or the plugin's refusal as { error: code } (a refusal is a result too). */
function applied(apply: (operation: Operation) => Json, operation: Operation): Json {
  try {
    return apply(structuredClone(operation));
  } catch (error) {
    if (error instanceof PluginError) {
      return { error: error.code };
    }
    return { error: "THREW", message: error instanceof Error ? error.message : String(error) };
  }
}

/** The replay for every pair of plugins with the same operations (pairs without are skipped). */
export function differentialChecks(
  plugins: readonly { label: string; plugin: Plugin; mix: Readonly<Record<string, number>> }[],
  options: Omit<DifferentialOptions, "mix">,
): DifferentialReport[] {
  const reports: DifferentialReport[] = [];
  for (let left = 0; left < plugins.length; left += 1) {
    for (let right = left + 1; right < plugins.length; right += 1) {
      const a = plugins[left]!;
      const b = plugins[right]!;
      if (sameOperations(a.plugin, b.plugin)) {
        reports.push(replayDifferential(a, b, { ...options, mix: a.mix }));
      }
    }
  }
  return reports;
}
