// report.html: one self-contained page per run (inline CSS, data and script, no network): the
// verdict and its explanation, the run's settings, each check's result, the linearizability anomaly
// if any, one timeline (operations, fault windows, leader changes and the first anomaly on the same
// run-time axis), and links to the raw files.
import type { FaultInterval, LatencySummary } from "../checks/perf.js";
import type { OperationPair } from "../../history/operation-pairs.js";
import type { LeaderChange } from "../checks/node-log-events.js";
import type { LinearizableReport } from "../checks/linearizability-check.js";
import { escapeHtml } from "./svg-charts.js";
import { buildTimelineData } from "./timeline-data.js";
import { timelineScript } from "./timeline-script.js";
import { checkHeadline, type RunSummary } from "./summary.js";
import type { PerfReport } from "../checks/perf.js";

export interface RunReportInput {
  summary: RunSummary;
  pairs: readonly OperationPair[];
  /** File name (relative to the report) of the checker's history view, when one was written. */
  linearizabilityReport?: string;
  /** Node log files, relative to the report. */
  nodeLogs: readonly string[];
  /** Nodes becoming leader, from the node logs (none when the logs are missing). */
  leaderChanges?: readonly LeaderChange[];
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
    timelineSection(input, durationS),
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
#timeline{position:relative;user-select:none;cursor:crosshair;margin-top:6px}#timeline-canvas{display:block;width:100%}
#timeline-overlay{position:absolute;inset:0;pointer-events:none}
.band{position:absolute;background:rgba(250,176,5,.2);border-left:1px solid #f08c00;border-right:1px solid #f08c00}
.band.not-injected{background:rgba(134,142,150,.15);border-color:#868e96}
.band-label{position:absolute;top:1px;left:1px;max-width:calc(100% - 2px);font-size:11px;color:#7c4a00;background:rgba(255,244,214,.92);padding:0 2px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.leader,.anomaly{position:absolute;width:0;border-left:1px dashed #1864ab}.anomaly{border-left:2px solid #c92a2a}
.marker-label{position:absolute;top:0;left:2px;font-size:11px;color:#1864ab;background:#fffc;white-space:nowrap;padding:0 2px}
.anomaly .marker-label{color:#fff;background:#c92a2a;top:30px}
#timeline-tooltip{position:absolute;z-index:2;pointer-events:none;background:#212529ee;color:#fff;padding:4px 8px;border-radius:4px;max-width:360px;white-space:pre-wrap;font:12px/1.4 ui-monospace,monospace}
#timeline-details{white-space:pre-wrap;font:12px/1.4 ui-monospace,monospace;min-height:1.4em}
.timeline-legend i{display:inline-block;width:12px;height:10px;margin:0 3px 0 10px;vertical-align:middle}
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

function timelineSection(input: RunReportInput, durationS: number): string {
  const data = buildTimelineData(input.summary, input.pairs, input.leaderChanges ?? [], durationS);
  // "<" is escaped so that no "</script>" in a value can end the data block early.
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  const lanes = data.laneKind === "process" ? "one lane per process (with the node(s) that answered it)" : "one lane per node that answered";
  return (
    `<h2>Timeline</h2><p class="timeline-legend">Run time in seconds. From the top: leader changes (node and term), completed operations per second, ` +
    `latency of each operation (log scale), and ${lanes}; shaded bands are fault windows labelled with their kind and nodes.` +
    `<i style="background:#2b8a3e"></i>ok<i style="background:#c92a2a"></i>fail<i style="background:#e67700"></i>info<i style="background:rgba(250,176,5,.35)"></i>fault` +
    `<i style="border-left:1px dashed #1864ab;width:4px"></i>leader change<i style="background:#c92a2a;width:3px"></i>first anomaly. ` +
    `Hover for details, click to keep them below; ctrl-wheel or the buttons zoom, drag or shift-wheel pans. ` +
    `<button id="timeline-zoom-out" title="zoom out">&minus;</button><button id="timeline-fit">fit</button><button id="timeline-zoom-in" title="zoom in">+</button></p>` +
    `<div id="timeline"><canvas id="timeline-canvas"></canvas><div id="timeline-overlay"></div><div id="timeline-tooltip" hidden></div></div>` +
    `<div id="timeline-details"></div>` +
    `<script type="application/json" id="timeline-data">${json}</script><script>${timelineScript}</script>`
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
