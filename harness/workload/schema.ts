// The workload file's schema. Objects are strict (an unknown field is an error, so a typo never
// silently falls back to a default). The parsed value keeps the YAML's own form (durations stay
// "10s") so a resolved workload can be written back out and run again; plan.ts turns it into numbers.
import { z } from "zod";
import { UNSAFE_FLAGS, type UnsafeFlag } from "../../node/protocol/unsafe-flags.js";
import { FAILPOINT_NAMES, parseFailpointAction, type FailpointName } from "../../node/protocol/failpoints.js";

import { durationProblem, type DurationBounds } from "./duration.js";
import { explainIssue } from "./issues.js";
import { rateProblem } from "./rate.js";

/** The partition faults (harness/nemesis/partition.ts has a grudge chooser for each). */
export const partitionFaultNames = [
  "partition-halves",
  "partition-random-halves",
  "partition-one",
  "partition-leader",
  "partition-majorities-ring",
  "partition-bridge",
  "partition-one-way",
] as const;

export const faultNames = [
  ...partitionFaultNames,
  "loss",
  "latency",
  "bandwidth",
  "kill",
  "kill-leader",
  "pause",
  "pause-leader",
  "pause-follower",
  "transfer-leader",
  "membership",
  "power-loss",
  "failpoint",
  "disk-stall",
  "double-vote",
  "figure-8",
  "deposed-leader",
] as const;
export type FaultName = (typeof faultNames)[number];

/**
 * The fewest nodes a fault means anything on; with fewer, every injection would fail or do nothing
 * (a partition of one node cuts nothing), so the run is refused up front. A majorities ring or a
 * bridge on 2 nodes cuts no link; membership removes a voter only from 3 up; network faults act on
 * traffic between nodes.
 */
export const faultMinimumNodes: Readonly<Record<FaultName, number>> = {
  "partition-halves": 2,
  "partition-random-halves": 2,
  "partition-one": 2,
  "partition-leader": 2,
  "partition-majorities-ring": 3,
  "partition-bridge": 3,
  "partition-one-way": 2,
  loss: 2,
  latency: 2,
  bandwidth: 2,
  kill: 1,
  "kill-leader": 1,
  pause: 1,
  "pause-leader": 1,
  "power-loss": 1,
  failpoint: 1,
  "disk-stall": 1,
  "pause-follower": 2,
  "transfer-leader": 2,
  membership: 3,
  "double-vote": 3,
  "figure-8": 5,
  "deposed-leader": 3,
};

/** The most nodes a scripted fault is written for (double-vote plays out on exactly three, figure-8 on five). */
export const faultMaximumNodes: Readonly<Partial<Record<FaultName, number>>> = {
  "double-vote": 3,
  "figure-8": 5,
};

/** The node's unsafe switches, settable from a workload (`node: { unsafe: [...] }`). */
export const unsafeBehaviours = UNSAFE_FLAGS;
export type UnsafeBehaviour = UnsafeFlag;

export const runtimeChoices = ["docker", "local", "swarm", "auto"] as const;
export type RuntimeChoice = (typeof runtimeChoices)[number];

export const keyDistributions = ["uniform", "zipf"] as const;

export const nodesMax = 9;
export const concurrencyMax = 1_000;

/** A string checked with `check`, which returns the problem or undefined. */
function checkedString(check: (text: string) => string | undefined): z.ZodType<string> {
  return z.string().superRefine((text, context) => {
    const problem = check(text);
    if (problem !== undefined) {
      context.addIssue({ code: "custom", message: problem, input: text });
    }
  });
}

/** A duration like "10s": positive unless `zero` allows 0, and never past the timer limit. */
const durationOf = (bounds: DurationBounds): z.ZodType<string> => checkedString((text) => durationProblem(text, bounds));
const duration = durationOf({ zero: false });
const durationOrZero = durationOf({ zero: true });

/** A positive integer, or "<k>n" meaning k × nodes (the default "2n" gives two clients per node). */
export type Concurrency = number | `${number}n`;
const concurrency = z
  .custom<Concurrency>(() => true)
  .superRefine((value, context) => {
    const perNode = typeof value === "string" ? /^([1-9]\d*)n$/.exec(value) : null;
    const valid =
      (typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= concurrencyMax) ||
      (perNode !== null && Number(perNode[1]) <= concurrencyMax);
    if (!valid) {
      context.addIssue({
        code: "custom",
        message: `expected an integer from 1 to ${concurrencyMax} or a multiple of the node count like "2n", got ${JSON.stringify(value)}`,
        input: value,
      });
    }
  });

const lossParameters = z.strictObject({ probability: z.number().gt(0).max(1).default(0.2) });
const latencyParameters = z.strictObject({ delay: durationOrZero.default("100ms"), jitter: durationOrZero.default("20ms") });
const bandwidthParameters = z.strictObject({ rate: checkedString(rateProblem).default("1mbit") });
/** Which nodes a node-local fault hits: the leader, every node but the leader, one random node, a random minority, or all. */
export const faultTargets = ["leader", "followers", "one", "minority", "all"] as const;
export type FaultTarget = (typeof faultTargets)[number];
const powerLossParameters = z.strictObject({ nodes: z.enum(faultTargets).default("one") });
const failpointAction = checkedString((text) =>
  parseFailpointAction(text) === undefined || text.trim() === "off" ? `expected sleep(<duration>), panic or error, got "${text}"` : undefined,
);
const failpointParameters = z.strictObject({ name: z.enum(FAILPOINT_NAMES), action: failpointAction, nodes: z.enum(faultTargets).default("leader") });
const diskStallParameters = z.strictObject({ delay: duration.default("500ms"), nodes: z.enum(faultTargets).default("leader") });
/** Faults that take parameters, with their schemas; the others take none. */
const faultParameters: Partial<Record<FaultName, z.ZodType>> = {
  loss: lossParameters,
  latency: latencyParameters,
  bandwidth: bandwidthParameters,
  "power-loss": powerLossParameters,
  failpoint: failpointParameters,
  "disk-stall": diskStallParameters,
};
/** The faults that take parameters. */
type ParameterisedFault = "loss" | "latency" | "bandwidth" | "power-loss" | "failpoint" | "disk-stall";

/** A single fault as written: a name, or a one-key map from the name to its parameters. */
export type SingleFaultEntry =
  | FaultName
  | { loss: z.output<typeof lossParameters> }
  | { latency: z.output<typeof latencyParameters> }
  | { bandwidth: z.output<typeof bandwidthParameters> }
  | { "power-loss": z.output<typeof powerLossParameters> }
  | { failpoint: z.output<typeof failpointParameters> }
  | { "disk-stall": z.output<typeof diskStallParameters> }
  | { [name: string]: Record<string, never> };

/** The key of a compound fault, Jepsen's nemesis composition: `{ all: [partition-one, kill-leader] }`. */
export const compoundFaultKey = "all";
export const compoundMembersMin = 2;

/** The optional key of a compound: how long to wait between injecting one member and the next. */
export const compoundSpacingKey = "spacing";

/** A fault as written: a single fault, or a compound of single faults injected together. */
export type FaultEntry = SingleFaultEntry | { all: SingleFaultEntry[]; spacing?: string };

function unknownFault(name: string): string {
  return `unknown fault "${name}"; known: ${faultNames.join(", ")}`;
}

/** A single fault with its parameters resolved (defaults filled in). */
export type ResolvedSingleFault =
  | { name: "loss"; probability: number }
  | { name: "latency"; delay: string; jitter: string }
  | { name: "bandwidth"; rate: string }
  | ({ name: "power-loss" } & z.output<typeof powerLossParameters>)
  | { name: "failpoint"; point: FailpointName; action: string; nodes: FaultTarget }
  | ({ name: "disk-stall" } & z.output<typeof diskStallParameters>)
  | { name: Exclude<FaultName, ParameterisedFault> };

/** A fault with its parameters resolved; a compound's members are injected in order, healed in reverse. */
export type ResolvedFault = ResolvedSingleFault | { name: typeof compoundFaultKey; members: ResolvedSingleFault[]; spacing: string };

/** The single faults a resolved fault injects: itself, or a compound's members. */
export function singleFaultsOf(fault: ResolvedFault): ResolvedSingleFault[] {
  return "members" in fault ? fault.members : [fault];
}

/** Resolves a validated fault entry: "loss" becomes { name: "loss", probability: 0.2 }. */
export function resolveFault(entry: FaultEntry): ResolvedFault {
  if (typeof entry === "object" && compoundFaultKey in entry) {
    const compound = entry as { all: SingleFaultEntry[]; spacing?: string };
    return { name: compoundFaultKey, members: compound.all.map(resolveSingleFault), spacing: compound.spacing ?? "0ms" };
  }
  return resolveSingleFault(entry as SingleFaultEntry);
}

function resolveSingleFault(entry: SingleFaultEntry): ResolvedSingleFault {
  const [name, parameters] = typeof entry === "string" ? [entry, {}] : (Object.entries(entry)[0] ?? []);
  if (name === "loss") {
    return { name, ...lossParameters.parse(parameters) };
  }
  if (name === "latency") {
    return { name, ...latencyParameters.parse(parameters) };
  }
  if (name === "bandwidth") {
    return { name, ...bandwidthParameters.parse(parameters) };
  }
  if (name === "power-loss") {
    return { name, ...powerLossParameters.parse(parameters) };
  }
  if (name === "failpoint") {
    const { name: point, action, nodes } = failpointParameters.parse(parameters);
    return { name, point, action, nodes };
  }
  if (name === "disk-stall") {
    return { name, ...diskStallParameters.parse(parameters) };
  }
  if (!(faultNames as readonly string[]).includes(name ?? "")) {
    throw new Error(`invariant: fault entry ${JSON.stringify(entry)} was validated`);
  }
  return { name: name as Exclude<FaultName, ParameterisedFault> };
}

type FaultIssue = { message: string; input: unknown; path: (string | number)[] };

/** The problems of one single fault entry; paths are relative to the entry. */
function singleFaultIssues(value: unknown): FaultIssue[] {
  if (typeof value === "string") {
    return (faultNames as readonly string[]).includes(value) ? [] : [{ message: unknownFault(value), input: value, path: [] }];
  }
  const names = typeof value === "object" && value !== null && !Array.isArray(value) ? Object.keys(value) : [];
  const [name] = names;
  if (name === undefined || names.length !== 1) {
    return [
      {
        message: `expected a fault name, or a map with one fault name and its parameters like { loss: { probability: 0.2 } }`,
        input: value,
        path: [],
      },
    ];
  }
  if (!(faultNames as readonly string[]).includes(name)) {
    return [{ message: unknownFault(name), input: value, path: [name] }];
  }
  const parameters = faultParameters[name as FaultName] ?? z.strictObject({});
  const result = parameters.safeParse((value as Record<string, unknown>)[name] ?? {}, { reportInput: true });
  const parameterNames = parameters instanceof z.ZodObject ? Object.keys(parameters.shape) : [];
  return (result.error?.issues ?? []).flatMap((issue) =>
    explainIssue(issue, () => parameterNames).map((explained) => ({
      message: issue.code === "unrecognized_keys" && parameterNames.length === 0 ? `fault "${name}" takes no parameters` : explained.message,
      input: value,
      path: [name, ...explained.path],
    })),
  );
}

/** The problems of a compound's member list (compounds do not nest). */
function compoundIssues(members: unknown): FaultIssue[] {
  const example = `like { ${compoundFaultKey}: [partition-one, kill-leader] }`;
  if (!Array.isArray(members) || members.length < compoundMembersMin) {
    return [{ message: `expected a list of at least ${compoundMembersMin} faults ${example}`, input: members, path: [compoundFaultKey] }];
  }
  return members.flatMap((member, index) => {
    const at = [compoundFaultKey, index];
    if (typeof member === "object" && member !== null && compoundFaultKey in member) {
      return [{ message: `compound faults do not nest: list the faults directly`, input: member, path: at }];
    }
    return singleFaultIssues(member).map((issue) => ({ ...issue, path: [...at, ...issue.path] }));
  });
}

/** The problems of a compound's other keys: only `spacing`, a duration. */
function compoundOptionIssues(value: Record<string, unknown>): FaultIssue[] {
  return Object.entries(value).flatMap(([key, option]): FaultIssue[] => {
    if (key === compoundFaultKey) {
      return [];
    }
    if (key !== compoundSpacingKey) {
      return [{ message: `unknown field "${key}"; known: ${compoundFaultKey}, ${compoundSpacingKey}`, input: value, path: [key] }];
    }
    const problem = typeof option === "string" ? durationProblem(option, { zero: true }) : `expected a duration like "500ms", got ${JSON.stringify(option)}`;
    return problem === undefined ? [] : [{ message: problem, input: value, path: [key] }];
  });
}

const fault = z
  .custom<FaultEntry>(() => true)
  .superRefine((value, context) => {
    const isCompound = typeof value === "object" && value !== null && !Array.isArray(value) && compoundFaultKey in value;
    const issues = isCompound
      ? [...compoundIssues((value as Record<string, unknown>)[compoundFaultKey]), ...compoundOptionIssues(value as Record<string, unknown>)]
      : singleFaultIssues(value);
    for (const issue of issues) {
      context.addIssue({ code: "custom", ...issue });
    }
  });

/** When a run keeps its nodes' data directories (results/<run>/nodes/<id>/data/). */
export const keepDataChoices = ["always", "failed", "never"] as const;
export type KeepData = (typeof keepDataChoices)[number];

const clients = z.strictObject({
  concurrency: concurrency.default("2n"),
  /** Total operations per second over all clients; absent = closed loop, as fast as the cluster answers. */
  rate: z.number().positive().max(1_000_000).optional(),
  timeout: duration.default("1s"),
  keys: z.int().min(1).max(1_000_000).default(5),
  distribution: z.enum(keyDistributions).default("uniform"),
  /** Operation name → weight. Names must be the plugin's operations (checked once it is loaded). */
  mix: z.record(z.string(), z.number().min(0)).optional(),
  /**
   * false: no client sessions and no retry of a command once sent, so an operation whose outcome
   * is unknown (a timeout, a lost leader) is recorded as `info` at once, as Jepsen clients do.
   */
  retries: z.boolean().default(true),
});

const nemesis = z.strictObject({
  interval: duration.default("5s"),
  faults: z.array(fault).default([]),
});

const final = z.strictObject({
  /** After every fault is healed, clients keep running this long before the final reads. */
  recovery: durationOrZero.default("10s"),
});

/** Most runs one comparison makes (plugins x fault sets x seeds): a limit on everything. */
export const compareRunsMax = 1_000;
const setName = checkedString((text) =>
  /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(text) ? undefined : `expected a name of letters, digits, ".", "_" and "-" (it names result folders), got "${text}"`,
);

/**
 * `raftlab compare`'s settings (ignored by `raftlab run`): the plugins (names or paths), the seeds
 * (a list, or a count n meaning 1..n), named fault sets (each replaces nemesis.faults), and an
 * operation mix per plugin (by name as listed, or the plugin's own name).
 */
const compare = z.strictObject({
  plugins: z.array(z.string().min(1)).min(1).max(20).optional(),
  seeds: z.union([z.int().min(1).max(compareRunsMax), z.array(z.int().min(0).max(Number.MAX_SAFE_INTEGER)).min(1).max(compareRunsMax)]).optional(),
  faults: z.record(setName, z.array(fault)).optional(),
  mix: z.record(z.string(), z.record(z.string(), z.number().min(0))).optional(),
});
export type CompareSection = z.output<typeof compare>;
/** Where the swarm runtime puts nodes and which image it runs (ignored by the other runtimes). */
const swarm = z.strictObject({
  /** YAML mapping swarm node names to their Docker API endpoints; relative to the workload file. */
  hosts_file: z.string().min(1).optional(),
  /** The swarm nodes to use, in order (a name may repeat); default: every ready node, by name. */
  hosts: z.array(z.string().min(1)).min(1).max(nodesMax).optional(),
  /** Fill each host with this many nodes before the next; default: spread, one host after another. */
  nodes_per_host: z.int().min(1).max(nodesMax).optional(),
  /** A registry image every host pulls, instead of building raftlab-node and loading it on each host. */
  image: z.string().min(1).optional(),
});
export type SwarmSettings = z.output<typeof swarm>;

export const workloadSchema = z.strictObject({
  name: checkedString((text) =>
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(text) ? undefined : `expected a name of letters, digits, ".", "_" and "-" (it names the results folder), got "${text}"`,
  ),
  description: z.string().optional(),
  /** A built-in plugin name or a path to a plugin module; checked when the plugin is loaded (plan.ts). */
  plugin: z.string().min(1).default("kv"),
  nodes: z.int().min(1).max(nodesMax).default(3),
  runtime: z.enum(runtimeChoices).default("auto"),
  seed: z.int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  duration: duration.default("20s"),
  clients: clients.prefault({}),
  nemesis: nemesis.prefault({}),
  final: final.prefault({}),
  checker: z.strictObject({ timeout: duration.default("60s") }).prefault({}),
  /** When the results folder keeps a copy of every node's data directory: `failed` = INVALID or unknown runs. */
  keep_data: z.enum(keepDataChoices).default("failed"),
  node: z
    .strictObject({
      unsafe: z.array(z.enum(unsafeBehaviours)).default([]),
      // The node's tuning flags (raftlab node --snapshot-every ...), e.g. to stress snapshots.
      snapshot_every: z.int().min(1).max(1_000_000_000).optional(),
      tick_ms: z.int().min(1).max(10_000).optional(),
      election_ticks: z.int().min(2).max(10_000).optional(),
      heartbeat_ticks: z.int().min(1).max(10_000).optional(),
    })
    .refine((node) => node.heartbeat_ticks === undefined || node.heartbeat_ticks < (node.election_ticks ?? 20), {
      message: "heartbeat_ticks must be below election_ticks (default 20)",
      path: ["heartbeat_ticks"],
    })
    .prefault({}),
  compare: compare.optional(),
  swarm: swarm.optional(),
});

/** A validated workload in its YAML form, with defaults filled in. */
export type WorkloadSpec = z.output<typeof workloadSchema>;
