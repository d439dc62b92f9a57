// `raftlab check FILE [--plugin NAME|PATH] [--timeout 60s] [--memory 2GiB] [--html FILE] [--json]
//                     [--strict]`
// Checks a history file for linearizability against a plugin's model.
// Exit codes: 0 linearizable, 1 not linearizable, 2 unknown (timeout or memory bound), 254 bad
// usage or bad input (the message names the file, line and field).
import { stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { PluginError, type Model, type Operation, type Outcome, type Plugin } from "../plugins/api.js";
import { isPluginPath, loadPlugin } from "../plugins/registry.js";
import { HistoryError } from "../history/history-error.js";
import { readHistoryFile, type ParsedHistory } from "../history/parse.js";
import { checkOperations, readOnlyOperations, UnpartitionableOperationError, type CheckResult } from "../checker/linearizable.js";
import { historyOperations, type HistoryOperation } from "../checker/operations.js";
import { renderReportHtml } from "../checker/linearizability-html.js";
import { explainVerdict } from "../harness/checks/explain.js";
import { timerLimitMs } from "../harness/workload/duration.js";

const usage = `usage: raftlab check FILE [--plugin NAME|PATH] [--timeout 60s] [--memory 2GiB] [--html FILE]
                    [--json] [--strict]

Checks a history (JSON Lines) for linearizability against a plugin's sequential model.
  --plugin NAME|PATH  kv (default), counter, queue, or a plugin module path
  --timeout DURATION  give up with verdict unknown after this long (e.g. 500ms, 60s, 2m); default 60s
  --memory SIZE       give up with verdict unknown once the process's resident memory passes
                      this (e.g. 512MiB, 2GiB); default half the machine's memory, at most 4 GiB
  --html FILE         also write a self-contained HTML view of the history and the verdict
  --json              print one JSON object instead of the summary
  --strict            reject a process that invokes again after its own info (accepted by
                      default, as Knossos's own data does it: the info operation stays open to
                      the end; the output counts them)
Exit codes: 0 linearizable, 1 not linearizable, 2 unknown, 254 bad usage or bad input.
`;

const prefixShown = 8;
const partitionsExplainedMax = 3;

export class UsageError extends Error {
  readonly code = "CHECK_USAGE";
}

interface CheckArguments {
  file: string;
  plugin: string;
  timeoutMs: number;
  /** The search's bound on resident memory; null: the checker's default. */
  memoryBytesMax: number | null;
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
    if (options.html !== null) {
      await checkHtmlTarget(options.html);
    }
    plugin = guardDescriptions(await loadPlugin(options.plugin));
    history = await readHistoryFile(options.file, { allowInvokeAfterInfo: options.allowInvokeAfterInfo });
  } catch (error) {
    if (error instanceof HistoryError || error instanceof PluginError || error instanceof UsageError) {
      const hint = error instanceof HistoryError && error.code === "HISTORY_INVOKE_AFTER_INFO" ? " (without --strict it is accepted)" : "";
      process.stderr.write(`raftlab check: ${error.message}${hint}\n`);
      return 254;
    }
    throw error;
  }
  const { operations, failedCount } = historyOperations(history.events);
  const foreign = operationForeignToPlugin(plugin, history, operations);
  if (foreign !== undefined) {
    process.stderr.write(`raftlab check: ${foreign}\n`);
    return 254;
  }
  let result: CheckResult;
  try {
    result = checkOperations(plugin.model, operations, {
      timeoutMs: options.timeoutMs,
      ...(options.memoryBytesMax === null ? {} : { memoryBytesMax: options.memoryBytesMax }),
      readOnly: readOnlyOperations(plugin),
    });
  } catch (error) {
    if (error instanceof UnpartitionableOperationError) {
      const line = history.lines[error.operation.invokeIndex];
      process.stderr.write(`raftlab check: ${options.file}:${line}: ${error.message} (plugin ${plugin.name})\n`);
      return 254;
    }
    if (!isPluginPath(options.plugin)) {
      throw error; // a built-in model or the checker itself failed: a bug, with its stack
    }
    // A third-party model that throws (from step, stateKey, ...) breaks the plugin contract.
    process.stderr.write(`raftlab check: plugin ${options.plugin}: its model threw while checking: ${firstLine(error)}\n`);
    return 254;
  }
  const explanation = explainVerdict({
    // The reason lets an unknown verdict say what ran out (time or memory) and how to raise it.
    checks: {
      linearizable: {
        valid: result.verdict === "ok" ? true : result.verdict === "illegal" ? false : "unknown",
        ...(result.reason === undefined ? {} : { reason: result.reason }),
      },
    },
    linearizability: result,
    events: history.events,
    plugin,
    timeoutHint: "--timeout",
  });
  const report = { options, plugin, history, operations, failedCount, result, explanation: explanation?.text ?? null };
  process.stdout.write(options.json ? JSON.stringify(jsonReport(report)) + "\n" : humanReport(report));
  if (options.html !== null) {
    try {
      await writeFile(options.html, renderReportHtml({ file: options.file, plugin, history, result }));
    } catch (error) {
      // The verdict is out already; the missing view is a failure of its own.
      process.stderr.write(`raftlab check: --html: cannot write ${options.html}: ${firstLine(error)}\n`);
      return 255;
    }
  }
  return exitCodes[result.verdict];
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? message;
}

/** Refuses, before the check runs, an --html path whose directory is missing or that is a directory. */
async function checkHtmlTarget(path: string): Promise<void> {
  const directory = dirname(path);
  const kind = async (target: string): Promise<"directory" | "other" | "missing"> => {
    try {
      return (await stat(target)).isDirectory() ? "directory" : "other";
    } catch {
      return "missing";
    }
  };
  if ((await kind(directory)) !== "directory") {
    throw new UsageError(`--html: cannot write ${path}: the directory ${directory} does not exist`);
  }
  if ((await kind(path)) === "directory") {
    throw new UsageError(`--html: ${path} is a directory`);
  }
}

/**
 * An operation that completed ok although the plugin's own state machine refuses it as malformed
 * (UNKNOWN_OPERATION, BAD_ARGUMENT: e.g. a kv put of the integer 1): the history was not recorded
 * with this plugin, and checking it would report a violation that is really a mismatch of formats.
 */
function operationForeignToPlugin(plugin: Plugin, history: ParsedHistory, operations: readonly HistoryOperation[]): string | undefined {
  for (const operation of operations) {
    if (!operation.outcome.known) {
      continue;
    }
    let refusal: PluginError | undefined;
    try {
      plugin.createStateMachine().apply(operation.input);
    } catch (error) {
      if (error instanceof PluginError && (error.code === "UNKNOWN_OPERATION" || error.code === "BAD_ARGUMENT")) {
        refusal = error;
      }
    }
    if (refusal !== undefined) {
      const line = history.lines[operation.invokeIndex];
      return (
        `${history.file}:${line}: ${plugin.model.describeOperation(operation.input, operation.outcome)} completed ok, but the ` +
        `${plugin.name} plugin refuses that operation (${refusal.code}: ${refusal.message}): this history was not recorded with ${plugin.name}`
      );
    }
  }
  return undefined;
}

/**
 * The plugin with describeOperation and describeState that cannot throw: a report must not be lost
 * because a third-party model cannot describe one operation. A failure shows as plain JSON.
 */
function guardDescriptions(plugin: Plugin): Plugin {
  const model = plugin.model as Model<unknown>;
  const guarded: Model<unknown> = Object.create(model) as Model<unknown>;
  guarded.describeOperation = (input: Operation, outcome: Outcome): string => {
    try {
      return model.describeOperation(input, outcome);
    } catch (error) {
      return `${input.f} ${safeJson(input.key ?? null)} ${safeJson(input.value)} -> ${outcome.known ? safeJson(outcome.value) : "?"} (describeOperation threw: ${firstLine(error)})`;
    }
  };
  guarded.describeState = (state: unknown): string => {
    try {
      return model.describeState(state);
    } catch (error) {
      return `${safeJson(state)} (describeState threw: ${firstLine(error)})`;
    }
  };
  return { ...plugin, model: guarded, createStateMachine: () => plugin.createStateMachine() };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

const exitCodes = { ok: 0, illegal: 1, unknown: 2 } as const;

function parseCheckArguments(argv: string[]): CheckArguments | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      plugin: { type: "string", default: "kv" },
      timeout: { type: "string", default: "60s" },
      memory: { type: "string" },
      html: { type: "string" },
      json: { type: "boolean", default: false },
      strict: { type: "boolean", default: false },
      // Accepted for old scripts: this is the default now.
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
    memoryBytesMax: values.memory === undefined ? null : parseSizeBytes(values.memory),
    html: values.html ?? null,
    json: values.json,
    allowInvokeAfterInfo: !values.strict,
  };
}

const sizeUnitBytes: Record<string, number> = { "": 2 ** 20, MiB: 2 ** 20, GiB: 2 ** 30, MB: 1e6, GB: 1e9 };

/** "512MiB", "2GiB", "800MB", "1.5GB", or a bare number of MiB. */
export function parseSizeBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(MiB|GiB|MB|GB)?$/.exec(text.trim());
  if (match === null) {
    throw new UsageError(`--memory: "${text}" is not a size like 512MiB, 2GiB or 800MB`);
  }
  const bytes = Number(match[1]) * (sizeUnitBytes[match[2] ?? ""] as number);
  if (!(bytes >= 2 ** 20)) {
    throw new UsageError(`--memory: must be at least 1 MiB, got "${text}"`);
  }
  return bytes;
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
  if (durationMs > timerLimitMs) {
    throw new UsageError(`--timeout: must be at most ${timerLimitMs} ms (the timer limit), got "${text}"`);
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
  if (history.invokesAfterInfo > 0) {
    lines.push(
      `  ${history.invokesAfterInfo} invoke(s) by a process after its own info, accepted (each info operation stays open to the end; --strict rejects them)`,
    );
  }
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
    invokesAfterInfo: history.invokesAfterInfo,
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
