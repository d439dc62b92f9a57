// report.html: one self-contained page per run (inline CSS and SVG, no scripts, no network):
// the verdict, the run's settings, each check's result, the linearizability anomaly if any, latency
// and throughput over time with fault intervals shaded, and links to the raw files.
import type { FaultInterval, LatencySummary } from "../checks/perf.js";
import { outcomeOf, type OperationPair } from "../../history/operation-pairs.js";
import type { LinearizableReport } from "../checks/linearizability-check.js";
import { escapeHtml, latencyChart, throughputChart, type LatencyPoint } from "./svg-charts.js";
import { checkHeadline, type RunSummary } from "./summary.js";
import type { PerfReport } from "../checks/perf.js";

export interface RunReportInput {
  summary: RunSummary;
  pairs: readonly OperationPair[];
  /** File name (relative to the report) of the checker's history view, when one was written. */
  linearizabilityReport?: string;
  /** Node log files, relative to the report. */
  nodeLogs: readonly string[];
}

/** Scatter points kept in the page: enough to see the shape, few enough for a light file. */
const latencyPointsMax = 6_000;

/**
 * Points for the latency scatter. Every fail and info is kept (they are what one looks for) up to
 * half the budget; ok points are thinned evenly to fill the rest.
 */
export function latencyPoints(pairs: readonly OperationPair[]): LatencyPoint[] {
  const completed = pairs.filter((pair) => pair.completion !== undefined);
  const toPoint = (pair: OperationPair): LatencyPoint => ({
    timeS: pair.invoke.time / 1e9,
    latencyMs: ((pair.completion?.time ?? pair.invoke.time) - pair.invoke.time) / 1e6,
    type: outcomeOf(pair),
    f: pair.invoke.f,
  });
  const unusual = completed.filter((pair) => outcomeOf(pair) !== "ok").slice(0, latencyPointsMax / 2);
  const ok = completed.filter((pair) => outcomeOf(pair) === "ok");
  const stride = Math.max(1, Math.ceil(ok.length / (latencyPointsMax - unusual.length)));
  return [...ok.filter((_, position) => position % stride === 0), ...unusual].map(toPoint);
}

const verdictText = (valid: RunSummary["valid"]): string => (valid === true ? "valid" : valid === false ? "INVALID" : "unknown");
const verdictClass = (valid: RunSummary["valid"]): string => (valid === true ? "valid" : valid === false ? "invalid" : "unknown");

export function renderRunReport(input: RunReportInput): string {
  const { summary } = input;
  const perf = summary.checks["perf"] as Partial<PerfReport> | undefined;
  const durationS = perf?.durationS ?? summary.duration_s;
  const faults: FaultInterval[] = summary.faults;
  const sections = [
    header(summary),
    settingsTable(summary),
    checksTable(summary),
    anomalySection(summary.checks["linearizable"] as LinearizableReport | undefined, input.linearizabilityReport),
    `<h2>Latency over time</h2>${latencyChart(latencyPoints(input.pairs), faults, durationS)}`,
    `<h2>Throughput</h2>${throughputChart(perf?.throughput ?? [], faults, durationS)}`,
    latencyTable(perf?.latency ?? {}),
    faultTable(faults),
    filesSection(input),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>raftlab: ${escapeHtml(summary.name)} (${verdictText(summary.valid)})</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#212529;padding:0 12px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dee2e6}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e9ecef;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f8f9fa;font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:700}
.valid{background:#2b8a3e}.invalid{background:#c92a2a}.unknown{background:#e67700}
pre{background:#f8f9fa;padding:8px;overflow:auto;max-height:420px;font-size:12px}code{font-size:12px}
details summary{cursor:pointer;color:#1864ab}
.explanation{font-size:15px;padding:10px 12px;border-left:4px solid;background:#fff5f5}.invalid-text{border-color:#c92a2a}.unknown-text{border-color:#e67700;background:#fff9db}
</style></head><body>
${sections.join("\n")}
</body></html>
`;
}

function header(summary: RunSummary): string {
  const explanation =
    summary.explanation === undefined || summary.explanation === null
      ? ""
      : `<p id="explanation" class="explanation ${verdictClass(summary.valid)}-text"><strong>What went wrong${summary.caught_by === null || summary.caught_by === undefined ? "" : ` (caught by ${escapeHtml(summary.caught_by)})`}:</strong> ${escapeHtml(summary.explanation)}</p>`;
  return (
    `<h1>${escapeHtml(summary.name)} <span class="badge ${verdictClass(summary.valid)}" id="verdict">${verdictText(summary.valid)}</span></h1>` +
    explanation +
    `<p>${escapeHtml(summary.plugin)} on ${summary.nodes} node(s), ${summary.runtime} runtime, seed ${summary.seed}, started ${escapeHtml(summary.started)}, ${summary.duration_s} s; exit code ${summary.exit_code}.</p>`
  );
}

function settingsTable(summary: RunSummary): string {
  const rows: [string, string][] = [
    ["workload", summary.workload_file],
    ["seed", String(summary.seed)],
    ["unsafe", summary.unsafe.length === 0 ? "none" : summary.unsafe.join(", ")],
    ["operations", `${summary.ops.total.invoked} invoked: ${summary.ops.total.ok} ok, ${summary.ops.total.fail} fail, ${summary.ops.total.info} info`],
    ["final phase", summary.final === null ? "not reached" : `${summary.final.readsOk}/${summary.final.readsPlanned} reads ok${summary.final.drained === undefined ? "" : `, queue drained: ${String(summary.final.drained)}`}`],
  ];
  return `<h2>Run</h2><table id="settings">${rows.map(([name, value]) => `<tr><th>${name}</th><td>${escapeHtml(value)}</td></tr>`).join("")}</table>`;
}

function checksTable(summary: RunSummary): string {
  const rows = Object.entries(summary.checks).map(
    ([name, report]) =>
      `<tr data-check="${escapeHtml(name)}"><th>${escapeHtml(name)}</th><td><span class="badge ${verdictClass(report.valid)}">${verdictText(report.valid)}</span></td>` +
      `<td>${escapeHtml(checkHeadline(name, report))}<details><summary>details</summary><pre>${escapeHtml(JSON.stringify(report, null, 2))}</pre></details></td></tr>`,
  );
  return `<h2>Checks</h2><table id="checks"><tr><th>check</th><th>verdict</th><th>result</th></tr>${rows.join("")}</table>`;
}

function anomalySection(report: LinearizableReport | undefined, linearizabilityReport: string | undefined): string {
  const link = linearizabilityReport === undefined ? "" : `<p><a href="${escapeHtml(linearizabilityReport)}">Open the history view of the linearizability check</a>.</p>`;
  const anomaly = report?.anomaly;
  if (report === undefined || anomaly === undefined || report.valid === true) {
    return link === "" ? "" : `<h2>Linearizability</h2>${link}`;
  }
  const tail = anomaly.prefixTail.map((step) => `<tr><td><code>${escapeHtml(step.operation)}</code></td><td><code>${escapeHtml(step.stateAfter)}</code></td></tr>`).join("");
  return (
    `<h2>Linearizability: ${report.valid === false ? "violation" : "undecided"}</h2>` +
    `<p>Key <code>${escapeHtml(JSON.stringify(anomaly.key))}</code>: after a linearizable prefix of ${anomaly.prefixLength} operation(s), ` +
    `no order places <code>${escapeHtml(anomaly.firstBadOperation ?? "?")}</code>${anomaly.firstBadIndex === null ? "" : ` (history index ${anomaly.firstBadIndex})`} ` +
    `in state <code>${escapeHtml(anomaly.stateBefore ?? "?")}</code>.</p>` +
    (tail === "" ? "" : `<table id="prefix"><tr><th>end of the longest prefix</th><th>state after</th></tr>${tail}</table>`) +
    link
  );
}

function latencyTable(latency: Record<string, LatencySummary>): string {
  const rows = Object.entries(latency).map(
    ([f, figures]) =>
      `<tr><th>${escapeHtml(f)}</th><td class="num">${figures.count}</td><td class="num">${figures.p50Ms}</td><td class="num">${figures.p95Ms}</td><td class="num">${figures.p99Ms}</td><td class="num">${figures.maxMs}</td></tr>`,
  );
  return `<h2>Latency (ms)</h2><table id="latency"><tr><th>f</th><th class="num">count</th><th class="num">p50</th><th class="num">p95</th><th class="num">p99</th><th class="num">max</th></tr>${rows.join("")}</table>`;
}

function faultTable(faults: readonly FaultInterval[]): string {
  if (faults.length === 0) {
    return `<h2>Faults</h2><p>None were injected.</p>`;
  }
  const rows = faults.map(
    (fault) =>
      `<tr><th>${escapeHtml(fault.f)}</th><td class="num">${fault.startS}</td><td class="num">${fault.endS}</td><td><code>${escapeHtml(JSON.stringify(fault.value))}</code></td></tr>`,
  );
  return `<h2>Faults</h2><table id="faults"><tr><th>fault</th><th class="num">start (s)</th><th class="num">healed (s)</th><th>what was done</th></tr>${rows.join("")}</table>`;
}

function filesSection(input: RunReportInput): string {
  const files = ["summary.json", "history.jsonl", "workload.yaml", ...(input.linearizabilityReport === undefined ? [] : [input.linearizabilityReport]), ...input.nodeLogs];
  return `<h2>Files</h2><ul>${files.map((file) => `<li><a href="${escapeHtml(file)}">${escapeHtml(file)}</a></li>`).join("")}</ul>`;
}
