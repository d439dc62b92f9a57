// The comparison matrix: plugins x fault sets x seeds, each cell an ordinary workload run. The
// plugins, seeds and fault sets come from the command line, else the workload's `compare:` section,
// else the workload itself. Every cell keeps the workload's client shape (concurrency, rate, keys,
// timeout) and its seed's fault plan; only the plugin and its operation mix change along a row.
import { PluginError, type Plugin } from "../../plugins/api.js";
import { loadPlugin } from "../../plugins/registry.js";
import { defaultMix } from "../workload/defaults.js";
import { WorkloadFileError, type WorkloadProblem } from "../workload/errors.js";
import type { FieldPath } from "../workload/issues.js";
import type { LoadedWorkload } from "../workload/load.js";
import { planRun, randomSeed, type RunPlan } from "../workload/plan.js";
import { compareRunsMax, type FaultEntry, type WorkloadSpec } from "../workload/schema.js";
import { countFrom, parseSeeds } from "./seeds.js";

export interface MatrixPlugin {
  /** As given (a built-in name or a path): names the row. */
  label: string;
  plugin: Plugin;
  mix: Record<string, number>;
}

export interface FaultSet {
  name: string;
  faults: FaultEntry[];
}

export interface CompareCell {
  /** 0-based position in run order. */
  index: number;
  /** Names the cell's results folder: "<plugin>--<fault set>--s<seed>". */
  id: string;
  plugin: MatrixPlugin;
  faultSet: FaultSet;
  seed: number;
  spec: WorkloadSpec;
  plan: RunPlan;
}

export interface CompareMatrix {
  name: string;
  plugins: MatrixPlugin[];
  faultSets: FaultSet[];
  seeds: number[];
  /** Seed-major order (all plugins and fault sets for seed 1, then seed 2, ...), so an early stop still compares. */
  cells: CompareCell[];
}

export interface CompareArguments {
  /** "kv,counter,./my-plugin.ts" */
  plugins?: string;
  /** "1,2,3", "5" or "1..20" */
  seeds?: string;
}

/** The fault set used when the workload names none: the workload's own nemesis.faults. */
export const workloadFaultSetName = "workload";

export async function resolveMatrix(loaded: LoadedWorkload, spec: WorkloadSpec, args: CompareArguments, cwd: string): Promise<CompareMatrix> {
  const section = spec.compare ?? {};
  const problems: WorkloadProblem[] = [];
  const at = (path: FieldPath): { line?: number; field: string } => {
    const line = loaded.lineOf(path);
    return { ...(line === undefined ? {} : { line }), field: path.join(".") };
  };
  const fail = (): never => {
    throw new WorkloadFileError(loaded.file, problems);
  };

  const fromCommandLine = args.plugins !== undefined;
  const labels = fromCommandLine ? (args.plugins ?? "").split(",").map((label) => label.trim()) : (section.plugins ?? [spec.plugin]);
  if (labels.some((label) => label === "")) {
    throw new WorkloadFileError("command line", [
      { field: "--plugins", message: `expected plugin names or paths separated by commas, got "${args.plugins ?? ""}"` },
    ]);
  }
  const repeated = labels.find((label, index) => labels.indexOf(label) !== index);
  if (repeated !== undefined) {
    throw new WorkloadFileError(fromCommandLine ? "command line" : loaded.file, [
      { ...(fromCommandLine ? { field: "--plugins" } : at(["compare", "plugins"])), message: `plugin "${repeated}" is listed twice` },
    ]);
  }
  const loadedPlugins: { label: string; plugin: Plugin }[] = [];
  for (const [index, label] of labels.entries()) {
    try {
      loadedPlugins.push({ label, plugin: await loadPlugin(label, { cwd }) });
    } catch (error) {
      if (!(error instanceof PluginError)) {
        throw error;
      }
      if (fromCommandLine) {
        throw new WorkloadFileError("command line", [{ field: "--plugins", message: error.message }]);
      }
      problems.push({ ...at(section.plugins === undefined ? ["plugin"] : ["compare", "plugins", index]), message: error.message });
    }
  }
  if (problems.length > 0) {
    fail();
  }

  // Mixes: compare.mix by label or plugin name, else the workload's mix when it fits, else the default.
  const mixes = section.mix ?? {};
  // A mix for a plugin the command line left out is simply unused; in the file it is a typo.
  for (const key of fromCommandLine ? [] : Object.keys(mixes)) {
    if (!loadedPlugins.some(({ label, plugin }) => key === label || key === plugin.name)) {
      problems.push({ ...at(["compare", "mix", key]), message: `no plugin "${key}" in this comparison; plugins: ${labels.join(", ")}` });
    }
  }
  const plugins: MatrixPlugin[] = loadedPlugins.map(({ label, plugin }) => {
    const operationNames = Object.keys(plugin.operations);
    const key = mixes[label] !== undefined ? label : plugin.name;
    const own = mixes[key];
    if (own !== undefined) {
      for (const name of Object.keys(own)) {
        if (!operationNames.includes(name)) {
          problems.push({
            ...at(["compare", "mix", key, name]),
            message: `unknown operation "${name}" for plugin ${label}; known: ${operationNames.join(", ")}`,
          });
        }
      }
      if (Object.values(own).every((weight) => weight <= 0)) {
        problems.push({ ...at(["compare", "mix", key]), message: "the weights must not all be 0" });
      }
      return { label, plugin, mix: { ...own } };
    }
    const workloadMix = spec.clients.mix;
    const fits = workloadMix !== undefined && Object.keys(workloadMix).every((name) => operationNames.includes(name));
    return { label, plugin, mix: fits ? { ...workloadMix } : defaultMix(plugin.name, operationNames) };
  });
  if (problems.length > 0) {
    fail();
  }

  let seeds: number[];
  try {
    seeds =
      args.seeds !== undefined
        ? parseSeeds(args.seeds)
        : typeof section.seeds === "number"
          ? countFrom(1, section.seeds)
          : (section.seeds ?? [spec.seed ?? randomSeed()]);
  } catch (error) {
    throw new WorkloadFileError("command line", [{ field: "--seeds", message: (error as Error).message }]);
  }
  const faultSets: FaultSet[] =
    section.faults === undefined || Object.keys(section.faults).length === 0
      ? [{ name: workloadFaultSetName, faults: spec.nemesis.faults }]
      : Object.entries(section.faults).map(([name, faults]) => ({ name, faults }));
  const total = plugins.length * faultSets.length * seeds.length;
  if (total > compareRunsMax) {
    throw new WorkloadFileError(loaded.file, [
      { field: "compare", message: `${total} runs (plugins x fault sets x seeds) is more than the limit of ${compareRunsMax}` },
    ]);
  }

  // Two versions of one plugin may share a file name (v1/kv.ts, v2/kv.ts): folder names stay apart.
  const slugs = new Map<MatrixPlugin, string>();
  for (const [index, plugin] of plugins.entries()) {
    const base = slug(plugin.label);
    slugs.set(plugin, [...slugs.values()].includes(base) ? `${base}-${index + 1}` : base);
  }
  const cells: CompareCell[] = [];
  for (const seed of seeds) {
    for (const faultSet of faultSets) {
      for (const plugin of plugins) {
        const { compare: _ignored, ...base } = spec;
        const cellSpec: WorkloadSpec = {
          ...base,
          plugin: plugin.label,
          seed,
          clients: { ...spec.clients, mix: plugin.mix },
          nemesis: { ...spec.nemesis, faults: faultSet.faults },
        };
        cells.push({
          index: cells.length,
          id: `${slugs.get(plugin) ?? slug(plugin.label)}--${faultSet.name}--s${seed}`,
          plugin,
          faultSet,
          seed,
          spec: cellSpec,
          plan: planRun(loaded, cellSpec, plugin.plugin),
        });
      }
    }
  }
  return { name: spec.name, plugins, faultSets, seeds, cells };
}

/** A plugin label as a folder name: "./plugins/examples/set-plugin.ts" -> "set-plugin". */
export function slug(label: string): string {
  const base = label.replace(/\\/g, "/").split("/").pop() ?? label;
  const cleaned = base
    .replace(/\.(c|m)?(j|t)s$/, "")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[-.]+/, "");
  return cleaned === "" ? "plugin" : cleaned;
}
