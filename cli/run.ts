// `raftlab run [FILE] [--runtime docker|local|swarm|auto] [--seed N | --seeds 1..20 [--failfast]] [--out DIR]
//              [--duration 10s] [--plugin NAME|PATH] [--nodes N] [--concurrency C] [--rate R] [--no-retries]`
// Exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad input, 255 crash or infrastructure failure.
// With --seeds the worst run decides (invalid, then a crash, then unknown).
import { RunInterrupt } from "./ending-signals.js";
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Plugin } from "../plugins/api.js";
import { format } from "../harness/compare/aggregate.js";
import { median } from "../harness/compare/run-metrics.js";
import { parseSeeds } from "../harness/compare/seeds.js";
import { FaultUnsupportedError, type Cluster, type Runtime } from "../harness/runtime/runtime.js";
import { createResultsFolder, outDirectoryProblem, updateLatestLink } from "../harness/results/results-folder.js";
import { describeChecks, type RunSummary } from "../harness/results/summary.js";
import { loadDefaultWorkload } from "../harness/workload/defaults.js";
import { WorkloadFileError } from "../harness/workload/errors.js";
import { readWorkloadFile, type LoadedWorkload } from "../harness/workload/load.js";
import { applyOverrides } from "../harness/workload/overrides.js";
import { loadWorkloadPlugin, planRun, type RunPlan } from "../harness/workload/plan.js";
import { refusalBeforeCluster, runWorkload } from "../harness/workload/run-workload.js";
import type { WorkloadSpec } from "../harness/workload/schema.js";
import { chooseRuntime } from "./runtime-choice.js";
import { shortPath } from "./short-path.js";
import { parseCommandLine, workloadFlags, workloadOverrides, type ParsedFlags } from "./workload-flags.js";

/** A runtime's refusal before it created anything (the swarm runtime's preflight): exit 254. */
function isRefusal(error: unknown): error is Error {
  return error instanceof Error && (error as { refusal?: unknown }).refusal === true;
}

const usage = `usage: raftlab run [FILE] [--runtime docker|local|swarm|auto] [--seed N | --seeds 1..20 [--failfast]] [--out DIR]
                   [--duration 10s] [--plugin NAME|PATH] [--nodes N] [--concurrency C|"2n"] [--rate OPS_PER_S] [--no-retries]

Runs a YAML workload (without FILE, the embedded default: 3-node kv, partitions and kill -9, 20 s).
Results go to results/<name>/<timestamp>/ (or --out DIR); results/latest points at the newest.
--seeds repeats the run once per seed ("5" = seeds 1..5, "1,4,9", "1..20") and prints a verdict
table with the throughput spread; --failfast stops at the first run that is not valid.
Exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad input, 255 crash or infrastructure failure.
`;

const resultsRoot = "results";

const options = {
  ...workloadFlags,
  seed: { type: "string" },
  failfast: { type: "boolean" },
  plugin: { type: "string" },
  nodes: { type: "string" },
  concurrency: { type: "string" },
  rate: { type: "string" },
  "no-retries": { type: "boolean" },
} as const;

type Parsed = ParsedFlags<typeof options>;

interface Prepared {
  loaded: LoadedWorkload;
  spec: WorkloadSpec;
  plugin: Plugin;
  /** One seed for a single run (the workload's, the flag's, or drawn), or --seeds. */
  seeds: (number | undefined)[];
}

/** One run's outcome: its summary and folder, or why it crashed. */
type RunOutcome = { seed: number; summary: RunSummary; directory: string } | { seed: number; crash: string };

export async function runCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandLine("run", usage, argv, options, checkArguments);
  if (typeof parsed === "number") {
    return parsed;
  }
  const log = (line: string): void => {
    process.stderr.write(`raftlab run: ${line}\n`);
  };
  let prepared: Prepared;
  try {
    prepared = await prepare(parsed, log);
  } catch (error) {
    if (error instanceof WorkloadFileError) {
      process.stderr.write(`${error.message}\n`);
      return 254;
    }
    throw error;
  }
  const out = parsed.values.out;
  if (out !== undefined) {
    const problem = await outDirectoryProblem(out);
    if (problem !== undefined) {
      process.stderr.write(`raftlab run: --out: ${problem}\n`);
      return 254;
    }
  }
  // Every signal that ends a run tears its cluster down: Ctrl-C, kill, and a closed terminal.
  const interrupt = new RunInterrupt(log);
  try {
    const firstPlan = planRun(prepared.loaded, prepared.spec, prepared.plugin);
    const chosen = await chooseRuntime(firstPlan.runtime, log, interrupt.signal, firstPlan.swarm);
    interrupt.destroyAllClusters = chosen.destroyAll;
    const repeated = parsed.values.seeds !== undefined;
    const outcomes: RunOutcome[] = [];
    for (const [index, seed] of prepared.seeds.entries()) {
      const spec: WorkloadSpec = seed === undefined ? prepared.spec : { ...prepared.spec, seed };
      const plan = planRun(prepared.loaded, spec, prepared.plugin);
      const prefix = repeated ? `[seed ${plan.seed}, run ${index + 1} of ${prepared.seeds.length}] ` : "";
      const out = parsed.values.out === undefined ? undefined : repeated ? join(parsed.values.out, `seed-${plan.seed}`) : parsed.values.out;
      const outcome = await runOnce({
        prepared,
        spec,
        plan,
        runtime: chosen.runtime,
        out,
        hardStop: interrupt.signal,
        log: (line) => log(prefix + line),
        onCluster: (created) => (interrupt.cluster = created),
      });
      if (typeof outcome === "number") {
        return outcome; // refused: bad input
      }
      outcomes.push(outcome);
      if ("summary" in outcome && !repeated) {
        printSummary(outcome.summary, outcome.directory);
      }
      if (parsed.values.failfast === true && !("summary" in outcome && outcome.summary.valid === true)) {
        log(`--failfast: stopping after seed ${outcome.seed}`);
        break;
      }
    }
    if (repeated) {
      printRepeats(outcomes, prepared.seeds.length);
    }
    return worstExitCode(outcomes);
  } catch (error) {
    if (interrupt.signal.aborted) {
      return 255; // The signal handler is destroying the cluster and will exit.
    }
    log(`run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await interrupt.cluster?.destroy();
    return 255;
  } finally {
    interrupt.stop();
  }
}

function checkArguments(result: Parsed): void {
  if (result.positionals.length > 1) {
    throw new Error(`expected at most one workload file, got ${result.positionals.length}: ${result.positionals.join(" ")}`);
  }
  if (result.values.seed !== undefined && result.values.seeds !== undefined) {
    throw new Error("give --seed or --seeds, not both");
  }
  if (result.values.failfast === true && result.values.seeds === undefined) {
    throw new Error("--failfast needs --seeds");
  }
}

async function prepare(parsed: Parsed, log: (line: string) => void): Promise<Prepared> {
  const file = parsed.positionals[0];
  const loaded = file === undefined ? loadDefaultWorkload() : await readWorkloadFile(file);
  const { seed, plugin: pluginFlag, nodes, concurrency, rate } = parsed.values;
  let spec = applyOverrides(loaded.spec, {
    ...workloadOverrides(parsed.values),
    ...(seed === undefined ? {} : { seed }),
    ...(pluginFlag === undefined ? {} : { plugin: pluginFlag }),
    ...(nodes === undefined ? {} : { nodes }),
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(rate === undefined ? {} : { rate }),
    ...(parsed.values["no-retries"] === true ? { retries: false } : {}),
  });
  let plugin: Plugin;
  try {
    plugin = await loadWorkloadPlugin(loaded, spec, process.cwd());
  } catch (error) {
    // The flag is at fault, not the file's plugin line.
    if (pluginFlag !== undefined && error instanceof WorkloadFileError) {
      throw new WorkloadFileError("command line", [{ field: "--plugin", message: error.problems[0]?.message ?? error.message }]);
    }
    throw error;
  }
  const mix = spec.clients.mix;
  if (pluginFlag !== undefined && mix !== undefined && !Object.keys(mix).every((name) => name in plugin.operations)) {
    // The file's mix was written for its own plugin: the one asked for gets its default mix.
    log(`--plugin ${pluginFlag}: the workload's mix names operations ${plugin.name} lacks; using ${plugin.name}'s default mix`);
    const { mix: _dropped, ...clients } = spec.clients;
    spec = { ...spec, clients };
  }
  let seeds: (number | undefined)[] = [undefined];
  if (parsed.values.seeds !== undefined) {
    try {
      seeds = parseSeeds(parsed.values.seeds);
    } catch (error) {
      throw new WorkloadFileError("command line", [{ field: "--seeds", message: (error as Error).message }]);
    }
  }
  planRun(loaded, spec, plugin); // reports a bad mix before any cluster starts
  return { loaded, spec, plugin, seeds };
}

async function runOnce(options: {
  prepared: Prepared;
  spec: WorkloadSpec;
  plan: RunPlan;
  runtime: Runtime;
  out: string | undefined;
  hardStop: AbortSignal;
  log: (line: string) => void;
  onCluster: (cluster: Cluster) => void;
}): Promise<RunOutcome | number> {
  const { prepared, plan, runtime, out, log } = options;
  log(`workload ${plan.name} (${prepared.loaded.file}), seed ${plan.seed}: re-run with --seed ${plan.seed}`);
  const refusal = await refusalBeforeCluster(runtime, plan, options.hardStop);
  if (refusal !== undefined) {
    process.stderr.write(`raftlab run: ${prepared.loaded.file}: nemesis.faults: ${refusal}\n`);
    return 254;
  }
  const outExisted =
    out !== undefined &&
    (await stat(out).then(
      () => true,
      () => false,
    ));
  let folder: Awaited<ReturnType<typeof createResultsFolder>>;
  try {
    folder = await createResultsFolder({ root: resultsRoot, name: plan.name, started: new Date(), ...(out === undefined ? {} : { out }) });
  } catch (error) {
    const where = out === undefined ? `cannot create the results folder under ${resultsRoot}/` : `--out: cannot create ${out}`;
    process.stderr.write(`raftlab run: ${where}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 254;
  }
  /** Removes what this run created when it is refused before anything ran: no empty run is kept. */
  const discardFolder = async (): Promise<void> => {
    // An --out directory that existed was empty: empty it again rather than remove it.
    const paths = outExisted ? (await readdir(folder.directory)).map((entry) => join(folder.directory, entry)) : [folder.directory];
    await Promise.all(paths.map((path) => rm(path, { recursive: true, force: true })));
  };
  log(`results in ${folder.directory}`);
  try {
    const summary = await runWorkload({
      loaded: prepared.loaded,
      spec: options.spec,
      plan,
      plugin: prepared.plugin,
      runtime,
      folder,
      hardStop: options.hardStop,
      log,
      onCluster: options.onCluster,
    });
    if (out === undefined) {
      await updateLatestLink(resultsRoot, folder.directory);
    }
    return { seed: plan.seed, summary, directory: folder.directory };
  } catch (error) {
    if (error instanceof FaultUnsupportedError) {
      process.stderr.write(`raftlab run: ${prepared.loaded.file}: nemesis.faults: ${error.message}\n`);
      await discardFolder(); // nothing ran: keep no empty run
      return 254;
    }
    if (isRefusal(error) || error instanceof WorkloadFileError) {
      // The swarm, a host or the hosts file is not fit for the run; nothing was created.
      process.stderr.write(`raftlab run: ${error.message}\n`);
      await discardFolder();
      return 254;
    }
    if (options.hardStop.aborted) {
      throw error;
    }
    const crash = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`run failed: ${crash}`);
    return { seed: plan.seed, crash };
  }
}

/** 1 when a run was invalid, else 255 when one crashed, else 2 when one was unknown, else 0. */
function worstExitCode(outcomes: readonly RunOutcome[]): number {
  const codes = outcomes.map((outcome) => ("summary" in outcome ? outcome.summary.exit_code : 255));
  return [1, 255, 2].find((code) => codes.includes(code)) ?? 0;
}

function printSummary(summary: RunSummary, directory: string): void {
  const verdict = summary.valid === true ? "VALID" : summary.valid === false ? "INVALID" : "UNKNOWN";
  const lines = [
    `${summary.name}: ${verdict} (seed ${summary.seed}, ${summary.runtime}, ${summary.nodes} node(s), ${summary.duration_s} s)`,
    ...describeChecks(summary.checks).map((line) => `  ${line}`),
    `results: ${shortPath(directory)}`,
    `report:  ${shortPath(join(directory, "report.html"))}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** The verdict table of a repeated run, one line per seed, then the throughput spread. */
function printRepeats(outcomes: readonly RunOutcome[], planned: number): void {
  const lines = [
    `${"seed".padStart(10)}  ${"verdict".padEnd(8)} ${"ops/s".padStart(9)} ${"p99 ms".padStart(9)} ${"ok".padStart(7)} ${"info".padStart(6)}  results`,
  ];
  const throughputs: number[] = [];
  for (const outcome of outcomes) {
    if (!("summary" in outcome)) {
      lines.push(`${String(outcome.seed).padStart(10)}  ${"CRASHED".padEnd(8)} ${outcome.crash.split("\n")[0] ?? ""}`);
      continue;
    }
    const { summary } = outcome;
    const perf = summary.checks["perf"] as { throughputOpsPerS?: number; latency?: Record<string, { p99Ms: number }> } | undefined;
    const throughput = perf?.throughputOpsPerS ?? 0;
    throughputs.push(throughput);
    const verdict = summary.valid === true ? "VALID" : summary.valid === false ? "INVALID" : "UNKNOWN";
    lines.push(
      `${String(summary.seed).padStart(10)}  ${verdict.padEnd(8)} ${format(throughput).padStart(9)} ${format(perf?.latency?.["all"]?.p99Ms ?? 0).padStart(9)} ` +
        `${String(summary.ops.total.ok).padStart(7)} ${String(summary.ops.total.info).padStart(6)}  ${shortPath(outcome.directory)}`,
    );
  }
  const count = (valid: boolean | "unknown"): number => outcomes.filter((outcome) => "summary" in outcome && outcome.summary.valid === valid).length;
  const crashed = outcomes.filter((outcome) => !("summary" in outcome)).length;
  lines.push(`${outcomes.length} of ${planned} run(s): ${count(true)} valid, ${count(false)} invalid, ${count("unknown")} unknown, ${crashed} crashed`);
  const middle = median(throughputs);
  if (middle !== null && throughputs.length > 0) {
    const low = Math.min(...throughputs);
    const high = Math.max(...throughputs);
    const spread = middle > 0 ? ` (spread ${format(((high - low) / middle) * 100)}% of the median)` : "";
    lines.push(`throughput: median ${format(middle)} ops/s, min ${format(low)}, max ${format(high)}${spread}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}
