// comparison.json: the machine-readable account of a comparison. Field names are stable (README
// "Comparing plugins"); add fields, never rename them.
import type { Validity } from "../checks/check-report.js";
import type { RunSummary } from "../results/summary.js";
import { comparedMetrics, differenceOf, statsOf, type Difference, type MetricStats } from "./aggregate.js";
import type { CompareMatrix } from "./compare-spec.js";
import type { DifferentialReport } from "./differential.js";
import type { RunMetrics } from "./run-metrics.js";
import type { RuntimeName } from "../runtime/runtime.js";

export type CellStatus = "valid" | "invalid" | "unknown" | "crashed" | "not-run";

export interface CellResult {
  id: string;
  plugin: string;
  fault_set: string;
  seed: number;
  status: CellStatus;
  /** The run's results folder, relative to the comparison's folder. */
  run_dir: string;
  /** Why the cell crashed (status "crashed"). */
  error?: string;
  valid?: Validity;
  exit_code?: number;
  /** Each check's verdict. */
  verdicts?: Record<string, Validity>;
  /** Wall time of the run, seconds. */
  duration_s?: number;
  metrics?: RunMetrics;
}

export interface PluginAggregate {
  plugin: string;
  fault_set: string;
  runs: number;
  counts: Record<CellStatus, number>;
  metrics: Record<string, MetricStats>;
}

export interface Comparison {
  format: "raftlab-comparison/1";
  name: string;
  workload_file: string;
  started: string;
  runtime: RuntimeName;
  plugins: { label: string; name: string; mix: Record<string, number> }[];
  fault_sets: { name: string; faults: unknown[] }[];
  seeds: number[];
  /** The sequential replay through every pair of plugins with the same operations, before any cluster ran. */
  differential: DifferentialReport[];
  cells: CellResult[];
  aggregates: PluginAggregate[];
  differences: Difference[];
  /** The worst cell: invalid, then crashed, then unknown, then valid. */
  worst: CellStatus;
  exit_code: number;
}

export function statusOf(summary: RunSummary): CellStatus {
  return summary.valid === true ? "valid" : summary.valid === false ? "invalid" : "unknown";
}

const severity: CellStatus[] = ["invalid", "crashed", "unknown", "not-run", "valid"];

/** Exit code of `raftlab compare`: 1 invalid, 255 a crashed (or unrun) cell, 2 unknown, else 0. */
export function worstOf(statuses: readonly CellStatus[]): { worst: CellStatus; exitCode: number } {
  const worst = severity.find((status) => statuses.includes(status)) ?? "valid";
  const exitCode = { invalid: 1, crashed: 255, "not-run": 255, unknown: 2, valid: 0 }[worst];
  return { worst, exitCode };
}

export function buildComparison(options: {
  matrix: CompareMatrix;
  workloadFile: string;
  started: Date;
  runtime: RuntimeName;
  differential: DifferentialReport[];
  cells: CellResult[];
}): Comparison {
  const { matrix, cells } = options;
  const aggregates: PluginAggregate[] = [];
  const differences: Difference[] = [];
  for (const faultSet of matrix.faultSets) {
    const series = matrix.plugins.map((plugin) => {
      const own = matrix.seeds.map((seed) => cells.find((cell) => cell.plugin === plugin.label && cell.fault_set === faultSet.name && cell.seed === seed));
      return { label: plugin.label, own };
    });
    for (const { label, own } of series) {
      const counts: Record<CellStatus, number> = { valid: 0, invalid: 0, unknown: 0, crashed: 0, "not-run": 0 };
      for (const cell of own) {
        counts[cell?.status ?? "not-run"] += 1;
      }
      const metrics: Record<string, MetricStats> = {};
      for (const metric of comparedMetrics) {
        metrics[metric.key] = statsOf(own.map((cell) => (cell?.metrics === undefined ? null : metric.of(cell.metrics))));
      }
      aggregates.push({ plugin: label, fault_set: faultSet.name, runs: own.filter((cell) => cell?.metrics !== undefined).length, counts, metrics });
    }
    for (let left = 0; left < series.length; left += 1) {
      for (let right = left + 1; right < series.length; right += 1) {
        const a = series[left]!;
        const b = series[right]!;
        for (const metric of comparedMetrics) {
          const values = (own: typeof a.own): (number | null)[] => own.map((cell) => (cell?.metrics === undefined ? null : metric.of(cell.metrics)));
          differences.push(differenceOf(faultSet.name, metric, { label: a.label, values: values(a.own) }, { label: b.label, values: values(b.own) }));
        }
      }
    }
  }
  const { worst, exitCode } = worstOf(cells.map((cell) => cell.status));
  return {
    format: "raftlab-comparison/1",
    name: matrix.name,
    workload_file: options.workloadFile,
    started: options.started.toISOString(),
    runtime: options.runtime,
    plugins: matrix.plugins.map((plugin) => ({ label: plugin.label, name: plugin.plugin.name, mix: plugin.mix })),
    fault_sets: matrix.faultSets.map((set) => ({ name: set.name, faults: set.faults })),
    seeds: matrix.seeds,
    differential: options.differential,
    cells,
    aggregates,
    differences,
    worst,
    exit_code: exitCode,
  };
}
