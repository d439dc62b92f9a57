// A small results folder a person can check by eye: a kv run with a partition (1 2 | 3 4 5) from
// 1 s to 3 s, a kill of node 2 from 5 s to 6 s, three leader changes in the node logs (node 1 term 1
// at 0.05 s, node 3 term 2 at 1.5 s, node 1 term 3 at 6.5 s) and a stale read by process 1 from
// node 3 invoked at 4 s: the first anomaly, after the partition healed and before the kill.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderReportHtml } from "../../../checker/linearizability-html.js";
import type { HistoryEvent } from "../../../history/event.js";
import { parseHistory } from "../../../history/parse.js";
import { pairOperations } from "../../../history/operation-pairs.js";
import { kvPlugin } from "../../../plugins/kv/index.js";
import { runChecks } from "../../checks/compose.js";
import { explainVerdict } from "../../checks/explain.js";
import type { PerfReport } from "../../checks/perf.js";
import type { ResultsFolder } from "../results-folder.js";
import { exitCodeFor, opsOf, type RunSummary } from "../summary.js";
import { writeRunResults } from "../write-results.js";

const historyStarted = Date.parse("2026-01-02T03:04:05.000Z");

export function timelineHistory(): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const add = (timeS: number, event: Record<string, unknown>): void => {
    events.push({ ...event, index: events.length, time: Math.round(timeS * 1e9) } as unknown as HistoryEvent);
  };
  const grudge = { "1": [3, 4, 5], "2": [3, 4, 5], "3": [1, 2], "4": [1, 2], "5": [1, 2] };
  add(0.1, { process: 0, type: "invoke", f: "put", key: "a", value: "1" });
  add(0.2, { process: 0, type: "ok", f: "put", key: "a", value: null, node: "1" });
  add(1.0, { process: "nemesis", type: "invoke", f: "partition-halves", value: null });
  add(1.0, { process: "nemesis", type: "info", f: "partition-halves", value: { grudge } });
  add(2.0, { process: 1, type: "invoke", f: "get", key: "a", value: null });
  add(2.1, { process: 1, type: "ok", f: "get", key: "a", value: "1", node: "3" });
  add(3.0, { process: "nemesis", type: "invoke", f: "heal", value: null });
  add(3.0, { process: "nemesis", type: "info", f: "heal", value: { fault: "partition-halves", network: "healed" } });
  add(3.5, { process: 0, type: "invoke", f: "put", key: "a", value: "2" });
  add(3.6, { process: 0, type: "ok", f: "put", key: "a", value: null, node: "1" });
  add(4.0, { process: 1, type: "invoke", f: "get", key: "a", value: null });
  add(4.1, { process: 1, type: "ok", f: "get", key: "a", value: "1", node: "3" });
  add(5.0, { process: "nemesis", type: "invoke", f: "kill", value: null });
  add(5.0, { process: "nemesis", type: "info", f: "kill", value: { nodes: [2], action: "SIGKILL" } });
  add(5.2, { process: 2, type: "invoke", f: "put", key: "b", value: "3" });
  add(5.7, { process: 2, type: "info", f: "put", key: "b", value: "3", error: "REQUEST_TIMEOUT: no answer" });
  add(6.0, { process: "nemesis", type: "invoke", f: "heal", value: null });
  add(6.0, { process: "nemesis", type: "info", f: "heal", value: { fault: "kill", nodes: [2], action: "restarted" } });
  add(6.8, { process: 0, type: "invoke", f: "get", key: "b", value: null });
  add(7.0, { process: 0, type: "ok", f: "get", key: "b", value: "3", node: "1" });
  return events;
}

function leaderLine(node: number, term: number, timeS: number): string {
  return JSON.stringify({ time: new Date(historyStarted + timeS * 1000).toISOString(), level: "info", node, msg: "role changed", role: "leader", term });
}

/** Writes the run's node logs, history, summary.json, report.html and linearizability.html into `folder`. */
export async function writeTimelineRun(folder: ResultsFolder): Promise<RunSummary> {
  await writeFile(join(folder.nodeLogDirectory, "node-1.log"), `${leaderLine(1, 1, 0.05)}\n${leaderLine(1, 3, 6.5)}\n`);
  await writeFile(join(folder.nodeLogDirectory, "node-3.log"), `${leaderLine(3, 2, 1.5)}\n`);
  const events = timelineHistory();
  const composed = await runChecks({ events, plugin: kvPlugin, checkerTimeoutMs: 10_000, logDirectory: folder.nodeLogDirectory, historyStartedMs: historyStarted });
  const summary: RunSummary = {
    name: "timeline",
    seed: 1,
    runtime: "local",
    plugin: "kv",
    nodes: 5,
    started: new Date(historyStarted - 500).toISOString(),
    history_started: new Date(historyStarted).toISOString(),
    duration_s: 7.5,
    valid: composed.valid,
    checks: composed.checks,
    ops: opsOf(composed.checks),
    faults: (composed.checks["perf"] as PerfReport).faults,
    workload_file: "workloads/timeline.yaml",
    unsafe: ["stale-reads"],
    final: null,
    exit_code: exitCodeFor(composed.valid),
  };
  const explanation = explainVerdict({ ...composed, events, plugin: kvPlugin });
  summary.explanation = explanation?.text ?? null;
  summary.caught_by = explanation?.check ?? null;
  summary.first_anomaly_s = explanation?.firstAnomalyS ?? null;
  const text = events.map((event) => JSON.stringify(event)).join("\n");
  await writeFile(folder.historyPath, `${text}\n`);
  if (composed.linearizability !== undefined) {
    const history = parseHistory(text, "history.jsonl");
    await writeFile(folder.linearizabilityReportPath, renderReportHtml({ file: "history.jsonl", plugin: kvPlugin, history, result: composed.linearizability }));
  }
  await writeRunResults({ folder, summary, pairs: pairOperations(events), hasLinearizabilityReport: composed.linearizability !== undefined });
  return summary;
}
