// compare.html: one self-contained page (no scripts, no network) for a comparison: the verdict
// matrix (plugins x fault sets x seeds, each cell linking to its run's report.html), the
// statements about differences beyond run-to-run spread, a table per fault set and a small dot
// chart per metric (one dot per seed, a bar at the median).
import { escapeHtml } from "../results/svg-charts.js";
import { comparedMetrics, format, seedsToJudgeMin, type MetricDefinition } from "./aggregate.js";
import type { CellResult, CellStatus, Comparison } from "./comparison.js";

const statusColours: Record<CellStatus, string> = { valid: "#2b8a3e", invalid: "#c92a2a", unknown: "#e67700", crashed: "#5f3dc4", "not-run": "#868e96" };

export function renderCompareHtml(comparison: Comparison): string {
  const title = `raftlab compare: ${comparison.name}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #212529; max-width: 1300px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; } h3 { font-size: 15px; margin: 18px 0 6px; }
table { border-collapse: collapse; margin: 6px 0; } th, td { border: 1px solid #dee2e6; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f1f3f5; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
a.cell { display: block; color: #fff; text-decoration: none; font-weight: 600; padding: 4px 8px; border-radius: 3px; min-width: 70px; text-align: center; }
a.cell small { display: block; font-weight: 400; opacity: .9; }
.verdict { display: inline-block; color: #fff; padding: 1px 8px; border-radius: 3px; font-weight: 600; }
.muted { color: #868e96; } ul.statements li { margin: 3px 0; } .exceeds { font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; } .chart { border: 1px solid #dee2e6; padding: 6px; }
code { background: #f1f3f5; padding: 0 3px; }
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p>Workload <code>${escapeHtml(comparison.workload_file)}</code> on the ${comparison.runtime} runtime, started ${escapeHtml(comparison.started)};
${comparison.plugins.length} plugin(s) x ${comparison.fault_sets.length} fault set(s) x ${comparison.seeds.length} seed(s) = ${comparison.cells.length} run(s).
Worst verdict: ${badge(comparison.worst)} (exit code ${comparison.exit_code}).</p>
<p class="muted">Every cell of a column ran the same fault plan (same faults, at the same times, on the same nodes; leader-aimed faults hit whichever node led) and the same client shape; each plugin ran its own operation mix.</p>
${differentialSection(comparison)}
<h2>Verdicts</h2>
${matrixTable(comparison)}
<h2>Differences beyond run-to-run spread</h2>
${statementsSection(comparison)}
${comparison.fault_sets.map((set) => faultSetSection(comparison, set.name)).join("\n")}
<h2>Plugins</h2>
<table><tr><th>plugin</th><th>name</th><th>operation mix</th></tr>
${comparison.plugins.map((plugin) => `<tr><td>${escapeHtml(plugin.label)}</td><td>${escapeHtml(plugin.name)}</td><td><code>${escapeHtml(JSON.stringify(plugin.mix))}</code></td></tr>`).join("\n")}
</table>
<p class="muted">Raw figures: <a href="comparison.json">comparison.json</a>. Each run's own folder is under <code>runs/</code>.</p>
</body></html>
`;
}

function badge(status: CellStatus): string {
  return `<span class="verdict" style="background:${statusColours[status]}">${status.toUpperCase()}</span>`;
}

function differentialSection(comparison: Comparison): string {
  if (comparison.differential.length === 0) {
    return "";
  }
  const rows = comparison.differential.map((report) => {
    const outcome =
      report.first_difference === null
        ? `agree on all ${report.operations} operations`
        : `first differ at operation ${report.first_difference.index}: <code>${escapeHtml(JSON.stringify(report.first_difference.operation))}</code> returned <code>${escapeHtml(JSON.stringify(report.first_difference.result_a))}</code> from ${escapeHtml(report.a)} and <code>${escapeHtml(JSON.stringify(report.first_difference.result_b))}</code> from ${escapeHtml(report.b)}`;
    return `<li class="differential" data-agree="${report.agree}">${escapeHtml(report.a)} vs ${escapeHtml(report.b)}: ${outcome}</li>`;
  });
  return `<h2>Sequential differential check</h2><p class="muted">One generated operation sequence applied in order to both state machines, before any cluster ran.</p><ul>${rows.join("")}</ul>`;
}

function matrixTable(comparison: Comparison): string {
  const header1 = comparison.fault_sets.map((set) => `<th colspan="${comparison.seeds.length}">${escapeHtml(set.name)}</th>`).join("");
  const header2 = comparison.fault_sets.map(() => comparison.seeds.map((seed) => `<th>seed ${seed}</th>`).join("")).join("");
  const rows = comparison.plugins.map((plugin) => {
    const cells = comparison.fault_sets
      .map((set) =>
        comparison.seeds
          .map(
            (seed) =>
              `<td>${matrixCell(comparison.cells.find((cell) => cell.plugin === plugin.label && cell.fault_set === set.name && cell.seed === seed))}</td>`,
          )
          .join(""),
      )
      .join("");
    return `<tr><th>${escapeHtml(plugin.label)}</th>${cells}</tr>`;
  });
  return `<table class="matrix"><tr><th rowspan="2">plugin</th>${header1}</tr><tr>${header2}</tr>\n${rows.join("\n")}</table>`;
}

function matrixCell(cell: CellResult | undefined): string {
  if (cell === undefined) {
    return `<span class="muted">-</span>`;
  }
  const throughput = cell.metrics === undefined ? "" : `<small>${format(cell.metrics.throughput_ops_per_s)} ops/s</small>`;
  const titleParts = [
    cell.id,
    ...(cell.verdicts === undefined ? [] : Object.entries(cell.verdicts).map(([name, valid]) => `${name}: ${String(valid)}`)),
    ...(cell.error === undefined ? [] : [cell.error.split("\n")[0] ?? ""]),
  ];
  const target = cell.metrics === undefined ? `${cell.run_dir}/` : `${cell.run_dir}/report.html`;
  return `<a class="cell" data-cell="${escapeHtml(cell.id)}" data-status="${cell.status}" href="${escapeHtml(target)}" title="${escapeHtml(titleParts.join("\n"))}" style="background:${statusColours[cell.status]}">${cell.status.toUpperCase()}${throughput}</a>`;
}

function statementsSection(comparison: Comparison): string {
  const beyond = comparison.differences.filter((difference) => difference.exceeds_spread === true);
  const undecided = comparison.differences.filter((difference) => difference.exceeds_spread === null && difference.difference !== null);
  if (comparison.seeds.length < seedsToJudgeMin) {
    return `<p>${comparison.seeds.length === 1 ? "One seed per cell: there is no run-to-run spread" : `${comparison.seeds.length} seeds per cell are too few to measure the run-to-run spread`} to judge differences by. Run with <code>--seeds 5</code> (or more) before reading any difference as a result.</p>`;
  }
  const items = beyond.map(
    (difference) => `<li class="exceeds" data-metric="${difference.metric}">[${escapeHtml(difference.fault_set)}] ${escapeHtml(difference.statement)}</li>`,
  );
  const within = comparison.differences.filter((difference) => difference.exceeds_spread === false).length;
  return `${items.length === 0 ? "<p>No difference exceeds the run-to-run spread.</p>" : `<ul class="statements">${items.join("\n")}</ul>`}
<p class="muted">${within} other difference(s) lie within the spread (listed in comparison.json)${undecided.length > 0 ? `; ${undecided.length} could not be judged (too few seeds with a value)` : ""}.</p>`;
}

function faultSetSection(comparison: Comparison, faultSet: string): string {
  const aggregates = comparison.aggregates.filter((aggregate) => aggregate.fault_set === faultSet);
  const header = aggregates.map((aggregate) => `<th>${escapeHtml(aggregate.plugin)}</th>`).join("");
  const rows = comparedMetrics.map((metric) => {
    const cells = aggregates.map((aggregate) => {
      const stats = aggregate.metrics[metric.key];
      if (stats === undefined || stats.median === null) {
        return `<td class="num muted">-</td>`;
      }
      const spread = stats.n > 1 ? ` <span class="muted">[${format(stats.min ?? 0)}–${format(stats.max ?? 0)}]</span>` : "";
      return `<td class="num">${format(stats.median)}${spread}</td>`;
    });
    return `<tr><th>${escapeHtml(metric.label)} <span class="muted">(${metric.unit})</span></th>${cells.join("")}</tr>`;
  });
  const faults = comparison.fault_sets.find((set) => set.name === faultSet)?.faults ?? [];
  const charts = comparedMetrics.map((metric) =>
    dotChart(
      metric,
      aggregates.map((aggregate) => ({
        label: aggregate.plugin,
        values: aggregate.metrics[metric.key]?.values ?? [],
        median: aggregate.metrics[metric.key]?.median ?? null,
      })),
    ),
  );
  return `<h2>Fault set ${escapeHtml(faultSet)}</h2>
<p class="muted">Faults: <code>${escapeHtml(JSON.stringify(faults))}</code>. Median over seeds, [min–max] when several.</p>
<table class="metrics" data-fault-set="${escapeHtml(faultSet)}"><tr><th>metric</th>${header}</tr>
${rows.join("\n")}</table>
<h3>Per metric</h3><div class="charts">${charts.join("")}</div>`;
}

/** One row per plugin: a dot per seed, a vertical bar at the median, the axis from 0 to the largest value. */
function dotChart(metric: MetricDefinition, rows: { label: string; values: readonly (number | null)[]; median: number | null }[]): string {
  const width = 300;
  const left = 90;
  const right = 14;
  const rowHeight = 20;
  const height = rows.length * rowHeight + 34;
  const values = rows.flatMap((row) => row.values.filter((value): value is number => value !== null));
  if (values.length === 0) {
    return "";
  }
  const maximum = Math.max(...values, 0) || 1;
  const x = (value: number): number => left + (value / maximum) * (width - left - right);
  const body = rows
    .map((row, index) => {
      const y = 22 + index * rowHeight;
      const dots = row.values
        .filter((value): value is number => value !== null)
        .map(
          (value) =>
            `<circle cx="${x(value).toFixed(1)}" cy="${y}" r="3.5" fill="#1971c2" fill-opacity="0.6"><title>${escapeHtml(`${row.label}: ${format(value)} ${metric.unit}`)}</title></circle>`,
        )
        .join("");
      const median =
        row.median === null
          ? ""
          : `<line x1="${x(row.median).toFixed(1)}" x2="${x(row.median).toFixed(1)}" y1="${y - 7}" y2="${y + 7}" stroke="#212529" stroke-width="2"/>`;
      return `<text x="${left - 6}" y="${y + 4}" font-size="11" text-anchor="end">${escapeHtml(row.label.length > 14 ? `…${row.label.slice(-13)}` : row.label)}</text><line x1="${left}" x2="${width - right}" y1="${y}" y2="${y}" stroke="#e9ecef"/>${dots}${median}`;
    })
    .join("");
  const axisY = height - 10;
  return `<div class="chart"><svg width="${width}" height="${height}" role="img" aria-label="${escapeHtml(metric.label)}"><text x="4" y="11" font-size="11" font-weight="600">${escapeHtml(`${metric.label} (${metric.unit})`)}</text>${body}<text x="${left}" y="${axisY}" font-size="10">0</text><text x="${width - right}" y="${axisY}" font-size="10" text-anchor="end">${format(maximum)}</text></svg></div>`;
}
