// Aggregates over seeds: per plugin and fault set, the median, range and a bootstrap interval of
// each metric; between plugins, whether a difference of medians exceeds the run-to-run spread
// (its 95% bootstrap interval over seeds excludes 0), stated in a plain sentence.
import { SeededRng } from "../../lib/rng.js";
import { median, round, type RunMetrics } from "./run-metrics.js";

export interface MetricDefinition {
  key: string;
  label: string;
  unit: string;
  /** Which direction is better, for wording ("higher" throughput, "lower" latency). */
  better: "higher" | "lower";
  of(metrics: RunMetrics): number | null;
}

const latency =
  (quantile: "p50Ms" | "p95Ms" | "p99Ms" | "maxMs") =>
  (metrics: RunMetrics): number | null =>
    metrics.latency_ms["all"]?.[quantile] ?? null;

/** The scalar metrics compared across plugins, in display order. */
export const comparedMetrics: readonly MetricDefinition[] = [
  { key: "throughput_ops_per_s", label: "throughput", unit: "ops/s", better: "higher", of: (m) => m.throughput_ops_per_s },
  { key: "ok_per_s", label: "ok operations", unit: "ops/s", better: "higher", of: (m) => m.ok_per_s },
  { key: "latency_p50_ms", label: "latency p50", unit: "ms", better: "lower", of: latency("p50Ms") },
  { key: "latency_p95_ms", label: "latency p95", unit: "ms", better: "lower", of: latency("p95Ms") },
  { key: "latency_p99_ms", label: "latency p99", unit: "ms", better: "lower", of: latency("p99Ms") },
  { key: "latency_max_ms", label: "latency max", unit: "ms", better: "lower", of: latency("maxMs") },
  { key: "availability", label: "availability", unit: "share ok", better: "higher", of: (m) => m.availability.overall },
  { key: "availability_outside_faults", label: "availability outside faults", unit: "share ok", better: "higher", of: (m) => m.availability.outside_faults },
  { key: "recovery_cluster_ms", label: "recovery (cluster)", unit: "ms", better: "lower", of: (m) => m.recovery_cluster_ms_median },
  { key: "recovery_all_workers_ms", label: "recovery (every worker)", unit: "ms", better: "lower", of: (m) => m.recovery_all_workers_ms_median },
  {
    key: "leader_changes_inside_faults",
    label: "leader changes in faults",
    unit: "count",
    better: "lower",
    of: (m) => m.leader_changes?.inside_faults ?? null,
  },
  {
    key: "leader_changes_outside_faults",
    label: "leader changes outside faults",
    unit: "count",
    better: "lower",
    of: (m) => m.leader_changes?.outside_faults ?? null,
  },
  { key: "info_rate", label: "info rate", unit: "share", better: "lower", of: (m) => m.info_rate },
  { key: "fail_rate", label: "fail rate", unit: "share", better: "lower", of: (m) => m.fail_rate },
  { key: "checker_ms", label: "checker time", unit: "ms", better: "lower", of: (m) => m.checker.elapsed_ms },
  { key: "snapshot_max_bytes", label: "largest snapshot", unit: "bytes", better: "lower", of: (m) => m.snapshots.max_bytes },
  {
    key: "node_memory_max_mb",
    label: "node memory (max RSS)",
    unit: "MB",
    better: "lower",
    of: (m) => (m.node_memory_bytes === null ? null : Math.round(m.node_memory_bytes / 1e5) / 10),
  },
];

export interface MetricStats {
  /** Per seed, in seed order (null where the run had no value). */
  values: (number | null)[];
  n: number;
  median: number | null;
  min: number | null;
  max: number | null;
  /** 95% bootstrap interval of the median over seeds (null with fewer than 2 values). */
  ci_low: number | null;
  ci_high: number | null;
}

export interface Difference {
  fault_set: string;
  metric: string;
  /** Plugin labels: the difference is b - a. */
  a: string;
  b: string;
  median_a: number | null;
  median_b: number | null;
  difference: number | null;
  ci_low: number | null;
  ci_high: number | null;
  /** True when the interval excludes 0; null when there are too few seeds to tell. */
  exceeds_spread: boolean | null;
  statement: string;
}

const resamples = 2_000;
/** Seeds per plugin below which no difference is judged: a bootstrap over 2 values is overconfident. */
export const seedsToJudgeMin = 3;

export function statsOf(values: readonly (number | null)[]): MetricStats {
  const present = values.filter((value): value is number => value !== null && Number.isFinite(value));
  const interval = present.length >= 2 ? bootstrapInterval((rng) => median(resample(rng, present))!) : null;
  return {
    values: [...values],
    n: present.length,
    median: roundOrNull(median(present)),
    min: present.length === 0 ? null : Math.min(...present),
    max: present.length === 0 ? null : Math.max(...present),
    ci_low: roundOrNull(interval?.[0] ?? null),
    ci_high: roundOrNull(interval?.[1] ?? null),
  };
}

/** b - a for one metric, with its bootstrap interval and a sentence saying what it means. */
export function differenceOf(
  faultSet: string,
  metric: MetricDefinition,
  a: { label: string; values: readonly (number | null)[] },
  b: { label: string; values: readonly (number | null)[] },
): Difference {
  const left = a.values.filter((value): value is number => value !== null);
  const right = b.values.filter((value): value is number => value !== null);
  const medianA = median(left);
  const medianB = median(right);
  const base = { fault_set: faultSet, metric: metric.key, a: a.label, b: b.label, median_a: roundOrNull(medianA), median_b: roundOrNull(medianB) };
  if (medianA === null || medianB === null) {
    return {
      ...base,
      difference: null,
      ci_low: null,
      ci_high: null,
      exceeds_spread: null,
      statement: `${metric.label}: no value for ${medianA === null ? a.label : b.label}.`,
    };
  }
  const difference = medianB - medianA;
  const what = `${b.label}'s ${metric.label} (median ${format(medianB)} ${metric.unit}) is ${describeGap(medianA, medianB)} ${a.label}'s (${format(medianA)})`;
  if (left.length < seedsToJudgeMin || right.length < seedsToJudgeMin) {
    const seeds = Math.min(left.length, right.length);
    return {
      ...base,
      difference: roundOrNull(difference),
      ci_low: null,
      ci_high: null,
      exceeds_spread: null,
      statement: `${what}; ${seeds === 1 ? "one seed per plugin gives no run-to-run spread" : `${seeds} seeds are too few to tell it from run-to-run spread`}: run at least ${seedsToJudgeMin} before reading this as a result.`,
    };
  }
  const [low, high] = bootstrapInterval((rng) => median(resample(rng, right))! - median(resample(rng, left))!);
  const exceeds = low > 0 || high < 0;
  const seeds = `${Math.min(left.length, right.length)} seeds`;
  const statement = exceeds
    ? `${what}; the 95% bootstrap interval of the difference over ${seeds}, [${format(low)}, ${format(high)}], excludes 0: larger than the run-to-run spread.`
    : `${what}; the 95% bootstrap interval over ${seeds}, [${format(low)}, ${format(high)}], includes 0: within run-to-run spread, not a result.`;
  return { ...base, difference: roundOrNull(difference), ci_low: roundOrNull(low), ci_high: roundOrNull(high), exceeds_spread: exceeds, statement };
}

/** 2.5% and 97.5% quantiles of `statistic` over seeded resamples: the same inputs give the same interval. */
function bootstrapInterval(statistic: (rng: SeededRng) => number): [number, number] {
  const rng = new SeededRng(20_251_204);
  const estimates = Float64Array.from({ length: resamples }, () => statistic(rng)).sort();
  return [estimates[Math.floor(0.025 * resamples)]!, estimates[Math.min(resamples - 1, Math.floor(0.975 * resamples))]!];
}

function resample(rng: SeededRng, values: readonly number[]): number[] {
  return values.map(() => values[rng.int(values.length)]!);
}

function describeGap(from: number, to: number): string {
  if (from === to) {
    return "the same as";
  }
  if (from === 0) {
    return to > from ? "higher than" : "lower than";
  }
  if (from > 0 && to / from >= 3) {
    return `${format(to / from)} times`;
  }
  const percent = Math.abs((to - from) / from) * 100;
  return `${percent < 1 ? percent.toFixed(1) : Math.round(percent)}% ${to > from ? "higher" : "lower"} than`;
}

export function format(value: number): string {
  const magnitude = Math.abs(value);
  return magnitude >= 100 ? String(Math.round(value)) : magnitude >= 1 ? String(round(value, 1)) : String(round(value, 4));
}

function roundOrNull(value: number | null): number | null {
  return value === null ? null : round(value, 4);
}
