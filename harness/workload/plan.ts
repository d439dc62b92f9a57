// Turns a validated workload (YAML form) and its plugin into the numbers a run uses: milliseconds,
// a concrete client count, the operation mix checked against the plugin's operations, a seed.
import { randomInt } from "node:crypto";
import { PluginError, type Plugin } from "../../plugins/api.js";
import { loadPlugin } from "../../plugins/registry.js";
import { defaultMix } from "./defaults.js";
import { durationMs } from "./duration.js";
import { WorkloadFileError, type WorkloadProblem } from "./errors.js";
import type { LoadedWorkload } from "./load.js";
import {
  concurrencyMax,
  faultMaximumNodes,
  faultMinimumNodes,
  resolveFault,
  singleFaultsOf,
  type RuntimeChoice,
  type KeepData,
  type ResolvedFault,
  type UnsafeBehaviour,
  type WorkloadSpec,
} from "./schema.js";
import { dirname, resolve } from "node:path";

export interface RunPlan {
  name: string;
  plugin: string;
  nodes: number;
  runtime: RuntimeChoice;
  seed: number;
  durationMs: number;
  clients: {
    concurrency: number;
    /** Total operations per second; undefined = closed loop. */
    rateOpsPerSecond: number | undefined;
    timeoutMs: number;
    keys: number;
    distribution: "uniform" | "zipf";
    /** Operation name → weight, every name an operation of the plugin, weights summing above 0. */
    mix: Record<string, number>;
    /** false: no sessions, no resend after an indeterminate attempt (clients.retries). */
    retries: boolean;
  };
  nemesis: { intervalMs: number; faults: ResolvedFault[] };
  recoveryMs: number;
  checkerTimeoutMs: number;
  /** Which runs keep their nodes' data directories (keep_data). */
  keepData: KeepData;
  unsafe: UnsafeBehaviour[];
  /** Tuning flags passed to every node (from the workload's node: section). */
  nodeFlags: string[];
  /** The swarm runtime's settings, hosts_file made absolute (relative to the workload file). */
  swarm: SwarmPlan;
}

export interface SwarmPlan {
  hostsFile: string | undefined;
  hosts: string[] | undefined;
  nodesPerHost: number | undefined;
  image: string | undefined;
}

/** Seeds are kept below 2^31 so they print short and fit every PRNG's seeding. */
export function randomSeed(): number {
  return randomInt(2 ** 31 - 1);
}

/**
 * Loads the workload's plugin (a built-in name, or a path resolved from `cwd`); a bad name or
 * module is reported at the `plugin` field's line.
 */
export async function loadWorkloadPlugin(loaded: LoadedWorkload, spec: WorkloadSpec, cwd: string): Promise<Plugin> {
  try {
    return await loadPlugin(spec.plugin, { cwd });
  } catch (error) {
    if (error instanceof PluginError) {
      throw new WorkloadFileError(loaded.file, [{ line: loaded.lineOf(["plugin"]), field: "plugin", message: error.message }]);
    }
    throw error;
  }
}

/**
 * Builds the run plan. A mix naming an operation the plugin lacks is reported at its line,
 * listing the plugin's operations.
 */
export function planRun(loaded: LoadedWorkload, spec: WorkloadSpec, plugin: Pick<Plugin, "name" | "operations">): RunPlan {
  const operationNames = Object.keys(plugin.operations);
  const mix = spec.clients.mix ?? defaultMix(plugin.name, operationNames);
  const problems: WorkloadProblem[] = [];
  for (const name of Object.keys(mix)) {
    if (!operationNames.includes(name)) {
      problems.push({
        line: loaded.lineOf(["clients", "mix", name]),
        field: `clients.mix.${name}`,
        message: `unknown operation "${name}" for plugin ${spec.plugin}; known: ${operationNames.join(", ")}`,
      });
    }
  }
  if (problems.length === 0 && Object.values(mix).reduce((sum, weight) => sum + weight, 0) <= 0) {
    problems.push({ line: loaded.lineOf(["clients", "mix"]), field: "clients.mix", message: "the weights must not all be 0" });
  }
  const faults = spec.nemesis.faults.map(resolveFault);
  problems.push(...faultsTooBigForCluster(loaded, faults, spec.nodes));
  const concurrency = spec.clients.concurrency;
  const clientCount = typeof concurrency === "number" ? concurrency : Number.parseInt(concurrency, 10) * spec.nodes;
  if (clientCount > concurrencyMax) {
    // Past this, one harness process mostly measures its own queueing: most calls time out and the
    // few that succeed would make a run look tested.
    problems.push({
      line: loaded.lineOf(["clients", "concurrency"]),
      field: "clients.concurrency",
      message: `"${String(concurrency)}" with ${spec.nodes} nodes is ${clientCount} clients; at most ${concurrencyMax} in total`,
    });
  }
  if (problems.length > 0) {
    throw new WorkloadFileError(loaded.file, problems);
  }
  return {
    name: spec.name,
    plugin: spec.plugin,
    nodes: spec.nodes,
    runtime: spec.runtime,
    seed: spec.seed ?? randomSeed(),
    durationMs: durationMs(spec.duration),
    clients: {
      concurrency: clientCount,
      rateOpsPerSecond: spec.clients.rate,
      timeoutMs: durationMs(spec.clients.timeout),
      keys: spec.clients.keys,
      distribution: spec.clients.distribution,
      mix,
      retries: spec.clients.retries,
    },
    nemesis: { intervalMs: durationMs(spec.nemesis.interval), faults },
    recoveryMs: durationMs(spec.final.recovery),
    checkerTimeoutMs: durationMs(spec.checker.timeout),
    keepData: spec.keep_data,
    unsafe: [...spec.node.unsafe],
    nodeFlags: nodeFlags(spec.node),
    swarm: swarmPlan(loaded, spec),
  };
}

function nodeFlags(node: WorkloadSpec["node"]): string[] {
  const flags: string[] = [];
  const add = (flag: string, value: number | undefined): void => {
    if (value !== undefined) {
      flags.push(flag, String(value));
    }
  };
  add("--snapshot-every", node.snapshot_every);
  add("--tick-ms", node.tick_ms);
  add("--election-ticks", node.election_ticks);
  add("--heartbeat-ticks", node.heartbeat_ticks);
  return flags;
}

/** A relative hosts_file is found beside the workload file (the embedded default has none). */
export function swarmPlan(loaded: LoadedWorkload, spec: WorkloadSpec): SwarmPlan {
  const settings = spec.swarm ?? {};
  const base = loaded.file.startsWith("<") ? process.cwd() : dirname(resolve(loaded.file));
  return {
    hostsFile: settings.hosts_file === undefined ? undefined : resolve(base, settings.hosts_file),
    hosts: settings.hosts === undefined ? undefined : [...settings.hosts],
    nodesPerHost: settings.nodes_per_host,
    image: settings.image,
  };
}

/** Faults that mean nothing on a cluster of `nodes` (faultMinimumNodes), each at its line. */
function faultsTooBigForCluster(loaded: LoadedWorkload, faults: readonly ResolvedFault[], nodes: number): WorkloadProblem[] {
  const problems: WorkloadProblem[] = [];
  faults.forEach((fault, index) => {
    for (const single of singleFaultsOf(fault)) {
      const minimum = faultMinimumNodes[single.name];
      const maximum = faultMaximumNodes[single.name];
      if (nodes < minimum) {
        problems.push({
          line: loaded.lineOf(["nemesis", "faults", index]),
          field: `nemesis.faults[${index}]`,
          message: `fault "${single.name}" needs at least ${minimum} nodes; this cluster has ${nodes}`,
        });
      } else if (maximum !== undefined && nodes > maximum) {
        problems.push({
          line: loaded.lineOf(["nemesis", "faults", index]),
          field: `nemesis.faults[${index}]`,
          message: `fault "${single.name}" is scripted for at most ${maximum} nodes; this cluster has ${nodes}`,
        });
      }
    }
  });
  return problems;
}
