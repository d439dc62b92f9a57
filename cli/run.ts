// `raftlab run [FILE] [--runtime docker|local|auto] [--seed N] [--out DIR] [--duration 10s]`
// Exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad input, 255 crash or infrastructure failure.
import { setMaxListeners } from "node:events";
import { rm } from "node:fs/promises";
import { parseArgs } from "node:util";
import { join } from "node:path";
import type { Cluster } from "../harness/runtime/runtime.js";
import { createResultsFolder, updateLatestLink } from "../harness/results/results-folder.js";
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
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const chosen = await chooseRuntime(spec.runtime, log, interrupt.signal);
    const runtime = chosen.runtime;
    destroyAllClusters = chosen.destroyAll;
    const refusal = await refusalBeforeCluster(runtime, plan, interrupt.signal);
    if (refusal !== undefined) {
      process.stderr.write(`raftlab run: ${loaded.file}: nemesis.faults: ${refusal}\n`);
      return 254;
    }
    const out = parsed.values.out;
    const folder = await createResultsFolder({ root: resultsRoot, name: plan.name, started: new Date(), ...(out === undefined ? {} : { out }) });
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
        if (out === undefined) {
          await rm(folder.directory, { recursive: true, force: true }); // nothing ran: keep no empty run
        }
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
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

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
