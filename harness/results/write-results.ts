// Writes the end-of-run files into the results folder: summary.json and report.html (the history
// and node logs were written during the run, workload.yaml at its start).
import { readdir, writeFile } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import type { OperationPair } from "../../history/operation-pairs.js";
import { readNodeLogEvents } from "../checks/node-log-events.js";
import { renderRunReport } from "./run-report-html.js";
import type { ResultsFolder } from "./results-folder.js";
import type { RunSummary } from "./summary.js";

export interface RunResults {
  folder: ResultsFolder;
  summary: RunSummary;
  pairs: readonly OperationPair[];
  /** Whether linearizability.html was written into the folder. */
  hasLinearizabilityReport: boolean;
}

export async function writeRunResults(results: RunResults): Promise<void> {
  const { folder, summary } = results;
  await writeFile(folder.summaryPath, `${JSON.stringify(summary, null, 2)}\n`);
  const nodeLogs = (await readdir(folder.nodeLogDirectory).catch(() => [] as string[]))
    .filter((name) => name.endsWith(".log"))
    .sort()
    .map((name) => relative(folder.directory, join(folder.nodeLogDirectory, name)));
  // Leader changes come from the node logs, on the history's time axis (history_started is its 0).
  const historyStartedMs = summary.history_started === undefined ? Date.parse(summary.started) : Date.parse(summary.history_started);
  const { leaderChanges } = await readNodeLogEvents(folder.nodeLogDirectory, historyStartedMs);
  const html = renderRunReport({
    summary,
    pairs: results.pairs,
    nodeLogs,
    leaderChanges,
    ...(results.hasLinearizabilityReport ? { linearizabilityReport: basename(folder.linearizabilityReportPath) } : {}),
  });
  await writeFile(folder.reportPath, html);
}
