// `raftlab compare FILE --plugins a,b[,path] [--seeds 1,2,3 | --seeds 5] [--runtime docker|local|swarm|auto] [--out DIR] [--duration 10s]`
// Runs the workload for every plugin x fault set x seed, each cell under the same seeded fault plan,
// and writes results/compare/<name>/<timestamp>/ with every run's folder, comparison.json and compare.html.
// Exit codes: 0 all valid, 1 a run invalid, 2 a run unknown, 254 bad input, 255 a crashed run or crash.
import { RunInterrupt } from "./ending-signals.js";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { format, seedsToJudgeMin } from "../harness/compare/aggregate.js";
import { resolveMatrix, type CompareMatrix } from "../harness/compare/compare-spec.js";
import { renderCompareHtml } from "../harness/compare/compare-html.js";
import { buildComparison, type CellResult, type Comparison } from "../harness/compare/comparison.js";
import { differentialChecks, type DifferentialReport } from "../harness/compare/differential.js";
import { runMatrix } from "../harness/compare/run-matrix.js";
import { runTimestamp } from "../harness/results/results-folder.js";
import { WorkloadFileError } from "../harness/workload/errors.js";
import { readWorkloadFile } from "../harness/workload/load.js";
import { applyOverrides } from "../harness/workload/overrides.js";
import { swarmPlan } from "../harness/workload/plan.js";
import { chooseRuntime } from "./runtime-choice.js";
import { shortPath } from "./short-path.js";
import { parseCommandLine, workloadFlags, workloadOverrides } from "./workload-flags.js";

const usage = `usage: raftlab compare FILE [--plugins kv,counter,./my-plugin.ts] [--seeds 1,2,3 | --seeds 5 | --seeds 1..20]
                       [--runtime docker|local|swarm|auto] [--out DIR] [--duration 10s]

Runs FILE once per plugin x fault set x seed (plugins, seeds and fault sets from the flags, else from
the workload's compare: section), every cell under the same seeded fault plan. Plugins with the same
operations are first replayed sequentially through one generated sequence (a differential check).
Writes results/compare/<name>/<timestamp>/: runs/<plugin>--<fault set>--s<seed>/, comparison.json, compare.html.
Exit codes: 0 all valid, 1 a run invalid, 2 a run unknown, 254 bad input, 255 a crashed run or a crash.
`;

const options = {
  ...workloadFlags,
  plugins: { type: "string" },
} as const;

/** Operations in the sequential differential replay. */
const differentialOperations = 10_000;

export async function compareCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandLine("compare", usage, argv, options, ({ values, positionals }) => {
    if (values.help !== true && positionals.length !== 1) {
      throw new Error(`expected one workload file, got ${positionals.length}`);
    }
  });
  if (typeof parsed === "number") {
    return parsed;
  }
  const log = (line: string): void => {
    process.stderr.write(`raftlab compare: ${line}\n`);
  };
  const { seeds, plugins, out } = parsed.values;
  let matrix: CompareMatrix;
  let file: string;
  let loaded: Awaited<ReturnType<typeof readWorkloadFile>>;
  try {
    file = parsed.positionals[0] ?? "";
    loaded = await readWorkloadFile(file);
    const spec = applyOverrides(loaded.spec, workloadOverrides(parsed.values));
    matrix = await resolveMatrix(loaded, spec, { ...(plugins === undefined ? {} : { plugins }), ...(seeds === undefined ? {} : { seeds }) }, process.cwd());
    loaded = { ...loaded, spec };
  } catch (error) {
    if (error instanceof WorkloadFileError) {
      process.stderr.write(`${error.message}\n`);
      return 254;
    }
    throw error;
  }
  log(`${matrix.plugins.length} plugin(s) x ${matrix.faultSets.length} fault set(s) x ${matrix.seeds.length} seed(s) = ${matrix.cells.length} run(s)`);

  const differential = differentialChecks(matrix.plugins, { seed: matrix.seeds[0] ?? 1, operations: differentialOperations, keys: loaded.spec.clients.keys });
  for (const report of differential) {
    log(describeDifferential(report));
  }

  const interrupt = new RunInterrupt(log);
  try {
    const chosen = await chooseRuntime(loaded.spec.runtime, log, interrupt.signal, swarmPlan(loaded, loaded.spec));
    interrupt.destroyAllClusters = chosen.destroyAll;
    const started = new Date();
    const directory = out ?? join("results", "compare", matrix.name, runTimestamp(started));
    await mkdir(directory, { recursive: true });
    log(`results in ${directory}`);
    const cells: CellResult[] = [];
    const write = async (finished: CellResult[]): Promise<Comparison> => {
      const comparison = buildComparison({ matrix, workloadFile: file, started, runtime: chosen.runtime.name, differential, cells: finished });
      await writeFile(join(directory, "comparison.json"), `${JSON.stringify(comparison, null, 2)}\n`);
      await writeFile(join(directory, "compare.html"), renderCompareHtml(comparison));
      return comparison;
    };
    const results = await runMatrix({
      matrix,
      loaded,
      runtime: chosen.runtime,
      directory,
      hardStop: interrupt.signal,
      log,
      onCluster: (created) => {
        interrupt.cluster = created;
      },
      // Partial results after each cell, so a long comparison can be looked at while it runs.
      onCell: async (result) => {
        cells.push(result);
        await write(cells);
      },
    });
    const comparison = await write(results);
    printComparison(comparison, directory);
    return comparison.exit_code;
  } catch (error) {
    if (interrupt.signal.aborted) {
      return 255;
    }
    log(`compare failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await interrupt.cluster?.destroy();
    return 255;
  } finally {
    interrupt.stop();
  }
}

export function describeDifferential(report: DifferentialReport): string {
  const difference = report.first_difference;
  if (difference === null) {
    return `differential: ${report.a} and ${report.b} agree on ${report.operations} sequential operations`;
  }
  return (
    `differential: ${report.a} and ${report.b} first differ at operation ${difference.index} ${JSON.stringify(difference.operation)}: ` +
    `${report.a} returned ${JSON.stringify(difference.result_a)}, ${report.b} returned ${JSON.stringify(difference.result_b)}`
  );
}

function printComparison(comparison: Comparison, directory: string): void {
  const lines = [`${comparison.name}: worst verdict ${comparison.worst.toUpperCase()} over ${comparison.cells.length} run(s) (${comparison.runtime})`];
  const stat = (aggregate: Comparison["aggregates"][number], key: string): string => {
    const stats = aggregate.metrics[key];
    if (stats === undefined || stats.median === null) {
      return "-";
    }
    return stats.n > 1 ? `${format(stats.median)} [${format(stats.min ?? 0)}-${format(stats.max ?? 0)}]` : format(stats.median);
  };
  const pluginWidth = Math.max(6, ...comparison.aggregates.map((aggregate) => aggregate.plugin.length));
  const setWidth = Math.max(9, ...comparison.aggregates.map((aggregate) => aggregate.fault_set.length));
  lines.push(
    `  ${"plugin".padEnd(pluginWidth)} ${"fault set".padEnd(setWidth)} ${"valid/invalid/unknown/crashed".padEnd(30)} ${"ops/s".padEnd(20)} ${"p99 ms".padEnd(20)} availability`,
  );
  for (const aggregate of comparison.aggregates) {
    const { valid, invalid, unknown, crashed } = aggregate.counts;
    lines.push(
      `  ${aggregate.plugin.padEnd(pluginWidth)} ${aggregate.fault_set.padEnd(setWidth)} ${`${valid}/${invalid}/${unknown}/${crashed}`.padEnd(30)} ` +
        `${stat(aggregate, "throughput_ops_per_s").padEnd(20)} ${stat(aggregate, "latency_p99_ms").padEnd(20)} ${stat(aggregate, "availability")}`,
    );
  }
  const beyond = comparison.differences.filter((difference) => difference.exceeds_spread === true);
  if (comparison.seeds.length < seedsToJudgeMin) {
    lines.push(`${comparison.seeds.length} seed(s) per cell: too few to judge differences against run-to-run spread (use --seeds 5 or more)`);
  } else {
    lines.push(beyond.length === 0 ? "no difference exceeds the run-to-run spread" : "differences beyond the run-to-run spread:");
    for (const difference of beyond) {
      lines.push(`  [${difference.fault_set}] ${difference.statement}`);
    }
  }
  lines.push(`results: ${shortPath(directory)}`, `page:    ${shortPath(join(directory, "compare.html"))}`);
  process.stdout.write(`${lines.join("\n")}\n`);
}
