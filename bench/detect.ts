// `npm run bench:detect [-- --json] [--seeds N] [--first-seed 1] [--runtime local|docker] [--duration 20s] [--only a,b] [--keep DIR]`:
// bug-finding power, measured. For every unsafe switch (workloads/unsafe-<switch>.yaml, with the
// fault mix documented there) it runs N seeded runs, then the same workload and seeds with no
// switch (the same seeded fault schedule on a safe cluster). Per switch it prints the share of
// runs found INVALID, the median run time of the first anomalous operation, which checks caught
// it, the longest run (the history's span: client phase and final reads, without cluster setup and
// teardown), and the safe runs' false positives (which must be 0). --first-seed lets a long measurement be
// split into short holds of the lock (seeds 1-5, then 6-10). --keep DIR keeps the results folders
// worth reading (an unsafe run not found INVALID, a safe run not VALID) under DIR; the rest are
// deleted. Run it under the cluster lock:
//   flock /tmp/raftlab-cluster.lock npm run bench:detect -- --seeds 10
import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, open, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const cliPath = path.join(projectRoot, "bin", "raftlab.js");

interface Options {
  json: boolean;
  seeds: number;
  firstSeed: number;
  runtime: "local" | "docker";
  duration: string | undefined;
  only: string[] | undefined;
  /** Where the folders of missed unsafe runs and of safe runs not VALID are kept. */
  keepDirectory: string | undefined;
}

interface RunOutcome {
  seed: number;
  valid: boolean | "unknown" | "crash";
  caughtBy: string | null;
  firstAnomalyS: number | null;
  /** The whole run as summary.json states it (duration_s): cluster setup, client phase, final reads, teardown. */
  durationS: number | null;
  /** The history's span (the perf check's durationS): the client phase and the final reads. */
  historyS: number | null;
}

interface SwitchResult {
  switch: string;
  runtime: string;
  seeds: number;
  first_seed: number;
  duration: string;
  invalid: number;
  unknown: number;
  crashed: number;
  median_first_anomaly_s: number | null;
  /** The longest history span of the unsafe and safe runs: the run length the 30 s goal bounds. */
  max_history_s: number | null;
  caught_by: Record<string, number>;
  false_positives: number;
  safe_unknown: number;
  runs: RunOutcome[];
  safe_runs: RunOutcome[];
}

function parseOptions(argv: string[]): Options {
  const options: Options = { json: false, seeds: 3, firstSeed: 1, runtime: "local", duration: undefined, only: undefined, keepDirectory: undefined };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) {
        throw new Error(`${flag}: needs a value`);
      }
      return next;
    };
    if (flag === "--json") {
      options.json = true;
    } else if (flag === "--seeds") {
      options.seeds = Number.parseInt(value(), 10);
    } else if (flag === "--first-seed") {
      options.firstSeed = Number.parseInt(value(), 10);
    } else if (flag === "--runtime") {
      const runtime = value();
      if (runtime !== "local" && runtime !== "docker") {
        throw new Error(`--runtime: expected local or docker, got ${runtime}`);
      }
      options.runtime = runtime;
    } else if (flag === "--duration") {
      options.duration = value();
    } else if (flag === "--only") {
      options.only = value().split(",");
    } else if (flag === "--keep") {
      options.keepDirectory = path.resolve(value());
    } else {
      throw new Error(`unknown flag ${flag}`);
    }
  }
  if (!(Number.isInteger(options.seeds) && options.seeds >= 1)) {
    throw new Error("--seeds: expected a positive integer");
  }
  if (!(Number.isInteger(options.firstSeed) && options.firstSeed >= 1)) {
    throw new Error("--first-seed: expected a positive integer");
  }
  return options;
}

/** Runs one workload file with `raftlab run` and reads its summary. */
async function runOnce(file: string, seed: number, options: Options, directory: string, expected: "invalid" | "valid"): Promise<RunOutcome> {
  const out = path.join(directory, `run-${path.basename(file, ".yaml")}-${seed}`);
  const args = [
    cliPath,
    "run",
    file,
    "--runtime",
    options.runtime,
    "--seed",
    String(seed),
    "--out",
    out,
    ...(options.duration === undefined ? [] : ["--duration", options.duration]),
  ];
  // The run's own output goes beside its results (raftlab-run.log), so a kept folder of a run that
  // ended without a summary says why.
  const output = await open(path.join(directory, `output-${path.basename(out)}.log`), "w");
  const exit = await new Promise<string>((resolve) => {
    const child = spawn(process.execPath, args, { cwd: projectRoot, stdio: ["ignore", output.fd, output.fd] });
    child.on("exit", (code, signal) => resolve(signal === null ? `exit code ${String(code)}` : `signal ${signal}`));
  });
  await output.write(`\nbench:detect: raftlab run ended with ${exit}\n`);
  await output.close();
  await mkdir(out, { recursive: true });
  await rename(path.join(directory, `output-${path.basename(out)}.log`), path.join(out, "raftlab-run.log"));
  const outcome = await readOutcome(out, seed);
  const worthReading = expected === "invalid" ? outcome.valid !== false : outcome.valid !== true;
  if (options.keepDirectory !== undefined && worthReading) {
    await mkdir(options.keepDirectory, { recursive: true });
    await cp(out, path.join(options.keepDirectory, path.basename(out)), { recursive: true });
  }
  await rm(out, { recursive: true, force: true });
  return outcome;
}

async function readOutcome(out: string, seed: number): Promise<RunOutcome> {
  try {
    const summary = JSON.parse(await readFile(path.join(out, "summary.json"), "utf8")) as {
      valid: boolean | "unknown";
      caught_by?: string | null;
      first_anomaly_s?: number | null;
      duration_s?: number;
      checks?: { perf?: { durationS?: number } };
    };
    return {
      seed,
      valid: summary.valid,
      caughtBy: summary.caught_by ?? null,
      firstAnomalyS: summary.first_anomaly_s ?? null,
      durationS: summary.duration_s ?? null,
      historyS: summary.checks?.perf?.durationS ?? null,
    };
  } catch {
    return { seed, valid: "crash", caughtBy: null, firstAnomalyS: null, durationS: null, historyS: null };
  }
}

function maxOrNull(values: number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => Math.max(a, b));
}

function median(values: number[]): number | null {
  if (values.length === 0) {
    return null;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function benchSwitch(file: string, options: Options, directory: string): Promise<SwitchResult> {
  const spec = parse(await readFile(file, "utf8")) as { name: string; duration?: string; node?: { unsafe?: string[] } };
  const flag = spec.node?.unsafe?.[0] ?? path.basename(file, ".yaml").replace(/^unsafe-/, "");
  // The safe twin: the same file with no switch, so the seeded fault schedule is the same.
  const safeFile = path.join(directory, `safe-${path.basename(file)}`);
  await writeFile(safeFile, stringify({ ...spec, name: `safe-${spec.name}`, node: { ...spec.node, unsafe: [] } }));
  const runs: RunOutcome[] = [];
  const safeRuns: RunOutcome[] = [];
  for (let seed = options.firstSeed; seed < options.firstSeed + options.seeds; seed++) {
    runs.push(await runOnce(file, seed, options, directory, "invalid"));
    safeRuns.push(await runOnce(safeFile, seed, options, directory, "valid"));
    if (!options.json) {
      process.stderr.write(`  ${flag} seed ${seed}: unsafe ${String(runs.at(-1)!.valid)}, safe ${String(safeRuns.at(-1)!.valid)}\n`);
    }
  }
  const caughtBy: Record<string, number> = {};
  for (const run of runs.filter((candidate) => candidate.valid === false)) {
    caughtBy[run.caughtBy ?? "?"] = (caughtBy[run.caughtBy ?? "?"] ?? 0) + 1;
  }
  return {
    switch: flag,
    runtime: options.runtime,
    seeds: options.seeds,
    first_seed: options.firstSeed,
    duration: options.duration ?? spec.duration ?? "20s",
    invalid: runs.filter((run) => run.valid === false).length,
    unknown: runs.filter((run) => run.valid === "unknown").length,
    crashed: runs.filter((run) => run.valid === "crash").length,
    median_first_anomaly_s: median(runs.flatMap((run) => (run.valid === false && run.firstAnomalyS !== null ? [run.firstAnomalyS] : []))),
    max_history_s: maxOrNull([...runs, ...safeRuns].flatMap((run) => (run.historyS === null ? [] : [run.historyS]))),
    caught_by: caughtBy,
    false_positives: safeRuns.filter((run) => run.valid === false).length,
    safe_unknown: safeRuns.filter((run) => run.valid === "unknown" || run.valid === "crash").length,
    runs,
    safe_runs: safeRuns,
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const workloads = (await readdir(path.join(projectRoot, "workloads")))
    .filter((name) => name.startsWith("unsafe-") && name.endsWith(".yaml"))
    .filter((name) => options.only === undefined || options.only.includes(name.replace(/^unsafe-|\.yaml$/g, "")))
    .sort();
  const directory = await mkdtemp(path.join(os.tmpdir(), "raftlab-bench-detect-"));
  try {
    if (!options.json) {
      process.stdout.write(`switch                      caught   median first anomaly  caught by                 longest run  safe false positives\n`);
    }
    for (const name of workloads) {
      const result = await benchSwitch(path.join(projectRoot, "workloads", name), options, directory);
      if (options.json) {
        process.stdout.write(JSON.stringify(result) + "\n");
      } else {
        const caught = `${result.invalid}/${result.seeds}`;
        const medianText = result.median_first_anomaly_s === null ? "-" : `${result.median_first_anomaly_s.toFixed(1)} s`;
        const by =
          Object.entries(result.caught_by)
            .map(([check, count]) => `${check} ${count}`)
            .join(", ") || "-";
        const extra = result.unknown + result.crashed > 0 ? ` (${result.unknown} unknown, ${result.crashed} crashed)` : "";
        process.stdout.write(
          `${result.switch.padEnd(28)}${caught.padEnd(9)}${medianText.padEnd(22)}${by.padEnd(26)}${(result.max_history_s === null ? "-" : `${result.max_history_s.toFixed(1)} s`).padEnd(13)}${result.false_positives}${result.safe_unknown > 0 ? ` (${result.safe_unknown} safe runs unknown)` : ""}${extra}\n`,
        );
      }
    }
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

await main();
