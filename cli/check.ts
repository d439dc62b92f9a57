// `raftlab check FILE [--plugin NAME|PATH] [--timeout 60s] [--html FILE] [--json]
//                     [--allow-invoke-after-info]`
// Checks a history file for linearizability against a plugin's model.
// Exit codes: 0 linearizable, 1 not linearizable, 2 unknown (timeout or memory bound), 254 bad
// usage or bad input (the message names the file, line and field).
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { PluginError, type Plugin } from "../plugins/api.js";
import { loadPlugin } from "../plugins/registry.js";
import { HistoryError } from "../history/history-error.js";
import { readHistoryFile, type ParsedHistory } from "../history/parse.js";
import { checkOperations, readOnlyOperations, type CheckResult } from "../checker/linearizable.js";
import { pairOperations, type HistoryOperation } from "../checker/operations.js";
import { renderReportHtml } from "../checker/linearizability-html.js";
import { explainVerdict } from "../harness/checks/explain.js";

const usage = `usage: raftlab check FILE [--plugin NAME|PATH] [--timeout 60s] [--html FILE] [--json]
                    [--allow-invoke-after-info]

Checks a history (JSON Lines) for linearizability against a plugin's sequential model.
  --plugin NAME|PATH  kv (default), counter, queue, or a plugin module path
  --timeout DURATION  give up with verdict unknown after this long (e.g. 500ms, 60s, 2m); default 60s
  --html FILE         also write a self-contained HTML view of the history and the verdict
  --json              print one JSON object instead of the summary
  --allow-invoke-after-info
                      accept a process that invokes again after its own info (some converted
                      Knossos histories do; the format forbids it)
Exit codes: 0 linearizable, 1 not linearizable, 2 unknown, 254 bad usage or bad input.
`;

const prefixShown = 8;
const partitionsExplainedMax = 3;

export class UsageError extends Error {
  readonly code = "RAFTLAB_CHECK_USAGE";
}

interface CheckArguments {
  file: string;
  plugin: string;
  timeoutMs: number;
  html: string | null;
  json: boolean;
  allowInvokeAfterInfo: boolean;
}

export async function checkCommand(argv: string[]): Promise<number> {
  let parsedArguments: CheckArguments | "help";
  try {
    parsedArguments = parseCheckArguments(argv);
  } catch (error) {
    process.stderr.write(`raftlab check: ${(error as Error).message}\n${usage}`);
    return 254;
  }
  if (parsedArguments === "help") {
    process.stdout.write(usage);
    return 0;
  }
  const options = parsedArguments;
  let plugin: Plugin;
  let history: ParsedHistory;
  try {
    plugin = await loadPlugin(options.plugin);
    history = await readHistoryFile(options.file, { allowInvokeAfterInfo: options.allowInvokeAfterInfo });
  } catch (error) {
    if (error instanceof HistoryError || error instanceof PluginError) {
      const hint =
        error instanceof HistoryError && error.code === "RAFTLAB_HISTORY_INVOKE_AFTER_INFO"
          ? " (--allow-invoke-after-info accepts it)"
          : "";
      process.stderr.write(`raftlab check: ${error.message}${hint}\n`);
      return 254;
    }
    throw error;
  }
  const { operations, failedCount } = pairOperations(history.events);
  const result = checkOperations(plugin.model, operations, {
    timeoutMs: options.timeoutMs,
    readOnly: readOnlyOperations(plugin),
  });
  if (options.html !== null) {
    await writeFile(options.html, renderReportHtml({ file: options.file, plugin, history, result }));
  }
  const explanation = explainVerdict({
    checks: { linearizable: { valid: result.verdict === "ok" ? true : result.verdict === "illegal" ? false : "unknown" } },
    linearizability: result,
    events: history.events,
    plugin,
    timeoutHint: "--timeout",
  });
  const report = { options, plugin, history, operations, failedCount, result, explanation: explanation?.text ?? null };
  process.stdout.write(options.json ? JSON.stringify(jsonReport(report)) + "\n" : humanReport(report));
  return exitCodes[result.verdict];
}

const exitCodes = { ok: 0, illegal: 1, unknown: 2 } as const;

function parseCheckArguments(argv: string[]): CheckArguments | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      plugin: { type: "string", default: "kv" },
      timeout: { type: "string", default: "60s" },
      html: { type: "string" },
      json: { type: "boolean", default: false },
      "allow-invoke-after-info": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    return "help";
  }
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? "missing the history FILE" : `expected one FILE, got ${positionals.length}`);
  }
  return {
    file: positionals[0] as string,
    plugin: values.plugin,
    timeoutMs: parseDurationMs(values.timeout),
    html: values.html ?? null,
    json: values.json,
    allowInvokeAfterInfo: values["allow-invoke-after-info"],
  };
}

/** "500ms", "60s", "2m", or a bare number of seconds. */
export function parseDurationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (match === null) {
    throw new UsageError(`--timeout: "${text}" is not a duration like 500ms, 60s or 2m`);
  }
  const amount = Number(match[1]);
  const unitMs = match[2] === "ms" ? 1 : match[2] === "m" ? 60_000 : 1000;
  const durationMs = amount * unitMs;
  if (!(durationMs > 0)) {
    throw new UsageError(`--timeout: must be positive, got "${text}"`);
  }
  return durationMs;
}

interface Report {
  options: CheckArguments;
  plugin: Plugin;
  history: ParsedHistory;
  operations: HistoryOperation[];
  failedCount: number;
  result: CheckResult;
  /** One paragraph for a violation or an unknown verdict (harness/checks/explain.ts). */
  explanation: string | null;
}

function humanReport({ options, plugin, history, operations, failedCount, result, explanation }: Report): string {
  const model = plugin.model;
  const infoCount = operations.filter((operation) => operation.type === "info").length;
  const lines: string[] = [];
  const verdictText = { ok: "linearizable", illegal: "NOT linearizable", unknown: "unknown" }[result.verdict];
  lines.push(`${options.file}: ${verdictText}${result.reason === undefined ? "" : ` (${result.reason})`}`);
  lines.push(
    `  ${operations.length} operations (${operations.length - infoCount} ok, ${infoCount} info; ${failedCount} failed, dropped), ` +
      `plugin ${plugin.name}, ${result.partitions.length} partitions (${result.partitionsDone} decided), ${Math.round(result.elapsedMs)} ms`,
  );
  if (explanation !== null) {
    lines.push(`  ${explanation}`);
  }
  const lineOf = (operation: HistoryOperation): string => {
    const invokeLine = history.lines[operation.invokeIndex];
    const completionLine = Number.isFinite(operation.completionIndex) ? history.lines[operation.completionIndex] : undefined;
    return completionLine === undefined ? `line ${invokeLine}` : `lines ${invokeLine}-${completionLine}`;
  };
  const explained = partitionsToExplain(result);
  if (explained.length > partitionsExplainedMax) {
    lines.push(`  (${explained.length} partitions undecided; showing ${partitionsExplainedMax})`);
  }
  for (const partition of explained.slice(0, partitionsExplainedMax)) {
    const key = partition.key === null ? "the whole history" : `key ${JSON.stringify(partition.key)}`;
    lines.push(`  ${partition.verdict === "illegal" ? "not linearizable" : "undecided"}: ${key} (${partition.operations.length} operations)`);
    const prefix = partition.linearization;
    if (partition.violation !== undefined) {
      lines.push(`    found without a search: ${partition.violation}`);
    } else {
      lines.push(`    longest linearizable prefix: ${prefix.length} operations${prefix.length > prefixShown ? `, last ${prefixShown}:` : ":"}`);
    }
    for (const step of prefix.slice(-prefixShown)) {
      const operation = step.operation;
      lines.push(
        `      ${model.describeOperation(operation.input, operation.outcome)}  (process ${operation.process}, ${lineOf(operation)})  => ${step.stateAfter}`,
      );
    }
    const bad = partition.firstBadOperation;
    if (bad !== null) {
      lines.push(`    cannot be linearized next: ${model.describeOperation(bad.input, bad.outcome)}  (process ${bad.process}, ${lineOf(bad)})`);
      if (partition.stateBefore !== null) {
        lines.push(`    model state at that point: ${partition.stateBefore}`);
      }
    }
  }
  if (options.html !== null) {
    lines.push(`  HTML view: ${options.html}`);
  }
  return lines.join("\n") + "\n";
}

/** The illegal partition, or when undecided the partitions the search got into. */
function partitionsToExplain(result: CheckResult): CheckResult["partitions"] {
  if (result.verdict === "illegal") {
    return result.partitions.filter((partition) => partition.verdict === "illegal");
  }
  return result.partitions.filter((partition) => partition.verdict === "unknown" && partition.linearization.length > 0);
}

function jsonReport({ options, plugin, history, operations, failedCount, result, explanation }: Report): unknown {
  const model = plugin.model;
  const describe = (operation: HistoryOperation): unknown => ({
    process: operation.process,
    f: operation.input.f,
    key: operation.input.key ?? null,
    value: operation.input.value,
    outcome: operation.outcome.known ? { known: true, value: operation.outcome.value } : { known: false },
    description: model.describeOperation(operation.input, operation.outcome),
    invokeLine: history.lines[operation.invokeIndex] ?? null,
    completionLine: Number.isFinite(operation.completionIndex) ? (history.lines[operation.completionIndex] ?? null) : null,
  });
  return {
    file: options.file,
    plugin: plugin.name,
    verdict: result.verdict,
    ...(result.reason === undefined ? {} : { reason: result.reason }),
    explanation,
    operations: operations.length,
    infoOperations: operations.filter((operation) => operation.type === "info").length,
    failedOperations: failedCount,
    partitions: result.partitions.length,
    partitionsDecided: result.partitionsDone,
    elapsedMs: Math.round(result.elapsedMs),
    // Explanations only for partitions that are not ok: a full linearization can be huge.
    problems: partitionsToExplain(result).map((partition) => ({
        key: partition.key,
        verdict: partition.verdict,
        operations: partition.operations.length,
        prefixLength: partition.linearization.length,
        prefixTail: partition.linearization.slice(-prefixShown).map((step) => ({
          operation: describe(step.operation),
          stateAfter: step.stateAfter,
        })),
        firstBadOperation: partition.firstBadOperation === null ? null : describe(partition.firstBadOperation),
        stateBefore: partition.stateBefore,
        ...(partition.violation === undefined ? {} : { violation: partition.violation }),
      })),
  };
}
