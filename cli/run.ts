// `raftlab run [FILE] [--runtime docker|local|auto] [--seed N] [--out DIR] [--duration 10s]`
// Exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad input, 255 crash or infrastructure failure.
import { setMaxListeners } from "node:events";
import { readdir, rm, stat } from "node:fs/promises";
import { parseArgs } from "node:util";
import { join } from "node:path";
import type { Cluster } from "../harness/runtime/runtime.js";
import { createResultsFolder, outDirectoryProblem, updateLatestLink, type ResultsFolder } from "../harness/results/results-folder.js";
import { describeChecks, type RunSummary } from "../harness/results/summary.js";
import { loadDefaultWorkload } from "../harness/workload/defaults.js";
import { WorkloadFileError } from "../harness/workload/errors.js";
import { readWorkloadFile, type LoadedWorkload } from "../harness/workload/load.js";
import { applyOverrides } from "../harness/workload/overrides.js";
import { loadWorkloadPlugin, planRun } from "../harness/workload/plan.js";
import { FaultRefusedError, refusalBeforeCluster, runWorkload } from "../harness/workload/run-workload.js";
import { chooseRuntime } from "./runtime-choice.js";
import { shortPath } from "./short-path.js";

const usage = `usage: raftlab run [FILE] [--runtime docker|local|auto] [--seed N] [--out DIR] [--duration 10s]

Runs a YAML workload (without FILE, the embedded default: 3-node kv, partitions and kill -9, 20 s).
Results go to results/<name>/<timestamp>/ (or --out DIR); results/latest points at the newest.
Exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad input, 255 crash or infrastructure failure.
`;

const resultsRoot = "results";

export async function runCommand(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArguments>;
  try {
    parsed = parseArguments(argv);
  } catch (error) {
    process.stderr.write(`raftlab run: ${(error as Error).message}\n${usage}`);
    return 254;
  }
  if (parsed.values.help === true) {
    process.stdout.write(usage);
    return 0;
  }
  const log = (line: string): void => {
    process.stderr.write(`raftlab run: ${line}\n`);
  };
  let prepared: Awaited<ReturnType<typeof prepare>>;
  try {
    prepared = await prepare(parsed);
  } catch (error) {
    if (error instanceof WorkloadFileError) {
      process.stderr.write(`${error.message}\n`);
      return 254;
    }
    throw error;
  }
  const { loaded, spec, plan, plugin } = prepared;
  const out = parsed.values.out;
  if (out !== undefined) {
    const problem = await outDirectoryProblem(out);
    if (problem !== undefined) {
      process.stderr.write(`raftlab run: --out: ${problem}\n`);
      return 254;
    }
  }
  log(`workload ${plan.name} (${loaded.file}), seed ${plan.seed}: re-run with --seed ${plan.seed}`);

  const interrupt = new AbortController();
  // Every worker's per-operation deadline listens to it: more than Node's default of 10 listeners.
  setMaxListeners(0, interrupt.signal);
  let cluster: Cluster | undefined;
  // Destroys every cluster of the chosen runtime, including one still being created.
  let destroyAllClusters: () => Promise<void> = async () => undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping, destroying the cluster`);
    interrupt.abort(new Error(`interrupted by ${signal}`));
    void Promise.allSettled([cluster?.destroy(), destroyAllClusters()]).finally(() => process.exit(255));
  };
  // Every signal that ends a run tears its cluster down: Ctrl-C, kill, and a closed terminal.
  for (const signal of endingSignals) {
    process.once(signal, onSignal);
  }
  let folder: ResultsFolder | undefined;
  /** Removes what this run created when it is refused before anything ran: no empty run is kept. */
  const discardFolder = async (): Promise<void> => {
    if (folder === undefined) {
      return;
    }
    // An --out directory that existed was empty: empty it again rather than remove it.
    const paths = outExisted ? (await readdir(folder.directory)).map((entry) => join(folder!.directory, entry)) : [folder.directory];
    await Promise.all(paths.map((path) => rm(path, { recursive: true, force: true })));
  };
  const outExisted = out !== undefined && (await stat(out).then(() => true, () => false));
  try {
    try {
      folder = await createResultsFolder({ root: resultsRoot, name: plan.name, started: new Date(), ...(out === undefined ? {} : { out }) });
    } catch (error) {
      const where = out === undefined ? `cannot create the results folder under ${resultsRoot}/` : `--out: cannot create ${out}`;
      process.stderr.write(`raftlab run: ${where}: ${error instanceof Error ? error.message : String(error)}\n`);
      return 254;
    }
    const chosen = await chooseRuntime(spec.runtime, log, interrupt.signal);
    const runtime = chosen.runtime;
    destroyAllClusters = chosen.destroyAll;
    const refusal = await refusalBeforeCluster(runtime.name, plan, interrupt.signal);
    if (refusal !== undefined) {
      process.stderr.write(`raftlab run: ${loaded.file}: nemesis.faults: ${refusal}\n`);
      await discardFolder();
      return 254;
    }
    log(`results in ${folder.directory}`);
    let summary: RunSummary;
    try {
      summary = await runWorkload({
        loaded,
        spec,
        plan,
        plugin,
        runtime,
        folder,
        hardStop: interrupt.signal,
        log,
        onCluster: (created) => {
          cluster = created;
        },
      });
    } catch (error) {
      if (error instanceof FaultRefusedError) {
        process.stderr.write(`raftlab run: ${loaded.file}: nemesis.faults: ${error.message}\n`);
        await discardFolder(); // nothing ran: keep no empty run
        return 254;
      }
      throw error;
    }
    if (out === undefined) {
      await updateLatestLink(resultsRoot, folder.directory);
    }
    printSummary(summary, folder.directory);
    return summary.exit_code;
  } catch (error) {
    if (interrupt.signal.aborted) {
      return 255; // The signal handler is destroying the cluster and will exit.
    }
    log(`run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await cluster?.destroy();
    return 255;
  } finally {
    for (const signal of endingSignals) {
      process.off(signal, onSignal);
    }
  }
}

/** The signals that end a run: each destroys the cluster first. */
const endingSignals: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

function parseArguments(argv: string[]): ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>> {
  const result = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  if (result.positionals.length > 1) {
    throw new Error(`expected at most one workload file, got ${result.positionals.length}: ${result.positionals.join(" ")}`);
  }
  return result;
}

const options = {
  runtime: { type: "string" },
  seed: { type: "string" },
  out: { type: "string" },
  duration: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

async function prepare(parsed: ReturnType<typeof parseArguments>): Promise<{
  loaded: LoadedWorkload;
  spec: ReturnType<typeof applyOverrides>;
  plan: ReturnType<typeof planRun>;
  plugin: Awaited<ReturnType<typeof loadWorkloadPlugin>>;
}> {
  const file = parsed.positionals[0];
  const loaded = file === undefined ? loadDefaultWorkload() : await readWorkloadFile(file);
  const { runtime, seed, duration } = parsed.values;
  const spec = applyOverrides(loaded.spec, {
    ...(runtime === undefined ? {} : { runtime }),
    ...(seed === undefined ? {} : { seed }),
    ...(duration === undefined ? {} : { duration }),
  });
  const plugin = await loadWorkloadPlugin(loaded, spec, process.cwd());
  return { loaded, spec, plan: planRun(loaded, spec, plugin), plugin };
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
