// Runs a comparison's cells one after another, each an ordinary run into
// <comparison>/runs/<cell id>/, and turns each into a CellResult. A cell that crashes (the cluster
// would not start, a runtime error) is recorded as crashed and the next cell runs; a hard stop
// (SIGINT) leaves the remaining cells "not-run".
import { join, relative } from "node:path";
import { readHistoryFile } from "../../history/parse.js";
import { createResultsFolder } from "../results/results-folder.js";
import type { RunSummary } from "../results/summary.js";
import type { Cluster, Runtime } from "../runtime/runtime.js";
import { formatDuration } from "../workload/duration.js";
import type { LoadedWorkload } from "../workload/load.js";
import { refusalBeforeCluster, runWorkload } from "../workload/run-workload.js";
import type { CompareCell, CompareMatrix } from "./compare-spec.js";
import { statusOf, type CellResult } from "./comparison.js";
import { runMetrics } from "./run-metrics.js";

export interface MatrixRun {
  matrix: CompareMatrix;
  loaded: LoadedWorkload;
  runtime: Runtime;
  /** The comparison's folder. */
  directory: string;
  hardStop: AbortSignal;
  log: (line: string) => void;
  onCluster: (cluster: Cluster) => void;
  /** Told after each cell, for a caller that writes partial results. */
  onCell?: (result: CellResult) => Promise<void>;
}

/** Start-up, teardown and checking on top of the planned duration, for the first estimate. */
const overheadEstimateMs = 20_000;

export async function runMatrix(run: MatrixRun): Promise<CellResult[]> {
  const { matrix, hardStop, log } = run;
  const results: CellResult[] = [];
  const startedMs = performance.now();
  for (const cell of matrix.cells) {
    const position = `run ${cell.index + 1} of ${matrix.cells.length}`;
    if (hardStop.aborted) {
      results.push(baseOf(cell, run.directory, "not-run"));
      continue;
    }
    const done = results.length;
    const perCellMs = done > 0 ? (performance.now() - startedMs) / done : cell.plan.durationMs + cell.plan.recoveryMs + overheadEstimateMs;
    log(`${position}: ${cell.id} (~${formatDuration(perCellMs * (matrix.cells.length - done))} left)`);
    const result = await runCell(cell, run, (line) => log(`[${cell.index + 1}/${matrix.cells.length} ${cell.id}] ${line}`));
    results.push(result);
    log(`${position}: ${cell.id}: ${result.status}${result.error === undefined ? "" : `: ${result.error.split("\n")[0] ?? ""}`}`);
    await run.onCell?.(result);
  }
  return results;
}

function baseOf(cell: CompareCell, directory: string, status: CellResult["status"]): CellResult {
  return {
    id: cell.id,
    plugin: cell.plugin.label,
    fault_set: cell.faultSet.name,
    seed: cell.seed,
    status,
    run_dir: relative(directory, cellDirectory(directory, cell)),
  };
}

export function cellDirectory(directory: string, cell: CompareCell): string {
  return join(directory, "runs", cell.id);
}

async function runCell(cell: CompareCell, run: MatrixRun, log: (line: string) => void): Promise<CellResult> {
  const base = baseOf(cell, run.directory, "crashed");
  try {
    const refusal = await refusalBeforeCluster(run.runtime, cell.plan, run.hardStop);
    if (refusal !== undefined) {
      return { ...base, error: `fault set ${cell.faultSet.name}: ${refusal}` };
    }
    const folder = await createResultsFolder({ root: run.directory, name: cell.id, started: new Date(), out: cellDirectory(run.directory, cell) });
    const summary: RunSummary = await runWorkload({
      loaded: run.loaded,
      spec: cell.spec,
      plan: cell.plan,
      plugin: cell.plugin.plugin,
      runtime: run.runtime,
      folder,
      hardStop: run.hardStop,
      log,
      onCluster: run.onCluster,
    });
    const history = await readHistoryFile(folder.historyPath);
    const metrics = await runMetrics({ summary, events: history.events, concurrency: cell.plan.clients.concurrency, logDirectory: folder.nodeLogDirectory });
    return {
      ...base,
      status: statusOf(summary),
      valid: summary.valid,
      exit_code: summary.exit_code,
      verdicts: Object.fromEntries(Object.entries(summary.checks).map(([name, report]) => [name, report.valid])),
      duration_s: summary.duration_s,
      metrics,
    };
  } catch (error) {
    return { ...base, status: run.hardStop.aborted ? "not-run" : "crashed", error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
}
