// The workload `raftlab run` uses without a file, and the default operation mixes per plugin.
// The default is YAML text parsed by the same loader as any file, so it cannot drift from the schema.
import { parseWorkload, type LoadedWorkload } from "./load.js";

export const defaultWorkloadYaml = `# raftlab's embedded default workload: a 3-node kv cluster under partitions and kill -9.
name: default
description: 3-node kv cluster, partitions and kill -9 for 20 s, then a linearizability check
plugin: kv
nodes: 3
runtime: auto
duration: 20s
clients:
  concurrency: 2n
  timeout: 1s
  keys: 5
  mix: { get: 0.4, put: 0.3, cas: 0.2, append: 0.1 }
nemesis:
  interval: 4s
  faults: [partition-halves, partition-leader, partition-one, kill, kill-leader]
final:
  recovery: 5s
checker:
  timeout: 60s
`;

export const defaultWorkloadFile = "<default workload>";

export function loadDefaultWorkload(): LoadedWorkload {
  return parseWorkload(defaultWorkloadYaml, defaultWorkloadFile);
}

/** Mixes used when a workload names no `clients.mix`, for the built-in plugins. */
export const defaultMixes: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  kv: { get: 0.4, put: 0.3, cas: 0.2, append: 0.1 },
  counter: { add: 0.7, read: 0.3 },
  queue: { enqueue: 0.5, dequeue: 0.4, size: 0.1 },
};

/** The default mix for a plugin: its built-in mix when every name exists, else equal weights. */
export function defaultMix(pluginName: string, operationNames: readonly string[]): Record<string, number> {
  const builtin = defaultMixes[pluginName];
  if (builtin !== undefined && Object.keys(builtin).every((name) => operationNames.includes(name))) {
    return { ...builtin };
  }
  return Object.fromEntries(operationNames.map((name) => [name, 1]));
}
