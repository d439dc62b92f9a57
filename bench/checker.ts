// Checker benchmark: `npm run bench:checker [-- --json] [-- --set NAME]`.
// Each set runs in a fresh child process so that its time includes a cold JIT, as `raftlab check`
// does, and its peak RSS is its own. Figures are wall milliseconds for parse + pair + check.
//
// Sets: etcd (every jepsen__etcd_* reference history), kv (every kv__*), cas-register (every
// cas-register__*), then a "total" line over those three, which is every history in
// checker/testdata/reference; c50-ok (kv__c50-ok*); gen-10k and gen-100k (generated: simulated
// concurrent clients on a linearizable kv, 100 keys, 5% info, fixed seed); queue-5k (generated:
// 5,000 operations of 8 clients on a queue, 5% info, fixed seed). Each set names its slowest file.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Plugin } from "../plugins/api.js";
import { loadPlugin } from "../plugins/registry.js";
import { checkOperations, readOnlyOperations, type Verdict } from "../checker/linearizable.js";
import { historyOperations } from "../checker/operations.js";
import { parseHistory } from "../history/parse.js";
import { readFile } from "node:fs/promises";
import { simulateHistory } from "../history/simulate-history.js";
import { seededRandom } from "../lib/rng.js";

const dataDirectory = join(dirname(fileURLToPath(import.meta.url)), "../checker/testdata/reference");
const setNames = ["etcd", "kv", "cas-register", "c50-ok", "gen-10k", "gen-100k", "queue-5k"] as const;
type SetName = (typeof setNames)[number];
/** The sets that together hold every history of checker/testdata/reference (all of them kv). */
const sharedDataSets: readonly SetName[] = ["etcd", "kv", "cas-register"];
const filePrefixes: Partial<Record<SetName, string>> = {
  etcd: "jepsen__etcd_",
  kv: "kv__",
  "cas-register": "cas-register__",
  "c50-ok": "kv__c50-ok",
};

interface SetResult {
  set: SetName | "total";
  files: number;
  ops: number;
  ms: number;
  /** Of `ms`, the time inside checkOperations. */
  check_ms: number;
  /** CPU time (user + system) over the same span: the machine may be shared, wall time is not. */
  cpu_ms: number;
  peak_rss_mb: number;
  verdicts: Partial<Record<Verdict, number>>;
  /** The file (or generated history) that took longest, and its wall milliseconds. */
  slowest: string;
  slowest_ms: number;
}

interface HistoryText {
  name: string;
  text: string;
}

async function pluginOf(set: SetName): Promise<Plugin> {
  return loadPlugin(set === "queue-5k" ? "queue" : "kv");
}

function historyText(events: readonly object[]): string {
  return events.map((event) => JSON.stringify(event)).join("\n") + "\n";
}

async function historiesOf(set: SetName, plugin: Plugin): Promise<HistoryText[]> {
  const prefix = filePrefixes[set];
  if (prefix !== undefined) {
    const names = readdirSync(dataDirectory).filter((name) => name.startsWith(prefix) && name.endsWith(".jsonl"));
    return Promise.all(names.map(async (name) => ({ name, text: await readFile(join(dataDirectory, name), "utf8") })));
  }
  if (set === "queue-5k") {
    const events = simulateHistory(plugin, {
      clientCount: 8,
      operationCount: 5000,
      keys: [],
      infoProbability: 0.05,
      failProbability: 0.02,
      random: seededRandom(20_26),
    });
    return [{ name: set, text: historyText(events) }];
  }
  const operationCount = set === "gen-10k" ? 10_000 : 100_000;
  const keys = Array.from({ length: 100 }, (_, index) => `k${index}`);
  const events = simulateHistory(plugin, {
    clientCount: 30,
    operationCount,
    keys,
    infoProbability: 0.05,
    failProbability: 0.02,
    random: seededRandom(20_26),
  });
  return [{ name: set, text: historyText(events) }];
}

async function runSet(set: SetName): Promise<SetResult> {
  const plugin = await pluginOf(set);
  const histories = await historiesOf(set, plugin);
  const readOnly = readOnlyOperations(plugin);
  const verdicts: Partial<Record<Verdict, number>> = {};
  let ops = 0;
  let checkMs = 0;
  let slowest = "";
  let slowestMs = -1;
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  for (const history of histories) {
    const historyStarted = performance.now();
    // Some converted reference histories reuse a process after an info read (see ParseOptions).
    const parsed = parseHistory(history.text, history.name, { allowInvokeAfterInfo: true });
    const { operations } = historyOperations(parsed.events);
    const result = checkOperations(plugin.model, operations, { readOnly, timeoutMs: 120_000 });
    ops += operations.length;
    checkMs += result.elapsedMs;
    verdicts[result.verdict] = (verdicts[result.verdict] ?? 0) + 1;
    const historyMs = performance.now() - historyStarted;
    if (historyMs > slowestMs) {
      slowest = history.name;
      slowestMs = historyMs;
    }
  }
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuStarted);
  return {
    set,
    files: histories.length,
    ops,
    ms: Math.round(ms),
    check_ms: Math.round(checkMs),
    cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    verdicts,
    slowest,
    slowest_ms: Math.round(slowestMs),
  };
}

/** Sums the shared-data sets: every history of checker/testdata/reference. */
function totalOf(results: readonly SetResult[]): SetResult {
  const verdicts: Partial<Record<Verdict, number>> = {};
  for (const result of results) {
    for (const [verdict, count] of Object.entries(result.verdicts) as [Verdict, number][]) {
      verdicts[verdict] = (verdicts[verdict] ?? 0) + count;
    }
  }
  const slowest = results.reduce((worst, result) => (result.slowest_ms > worst.slowest_ms ? result : worst));
  const sum = (field: "files" | "ops" | "ms" | "check_ms" | "cpu_ms"): number => results.reduce((total, result) => total + result[field], 0);
  return {
    set: "total",
    files: sum("files"),
    ops: sum("ops"),
    ms: sum("ms"),
    check_ms: sum("check_ms"),
    cpu_ms: sum("cpu_ms"),
    peak_rss_mb: Math.max(...results.map((result) => result.peak_rss_mb)),
    verdicts,
    slowest: slowest.slowest,
    slowest_ms: slowest.slowest_ms,
  };
}

function describeResult(result: SetResult): string {
  const verdicts = Object.entries(result.verdicts)
    .map(([verdict, count]) => `${count} ${verdict}`)
    .join(", ");
  return `${result.set.padEnd(12)} ${String(result.files).padStart(3)} files ${String(result.ops).padStart(7)} ops  ${String(result.ms).padStart(6)} ms (check ${result.check_ms} ms, cpu ${result.cpu_ms} ms)  peak RSS ${result.peak_rss_mb} MB  [${verdicts}]  slowest ${result.slowest} ${result.slowest_ms} ms`;
}

async function main(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  const setIndex = argv.indexOf("--set");
  if (setIndex !== -1) {
    const set = argv[setIndex + 1] as SetName;
    if (!setNames.includes(set)) {
      process.stderr.write(`unknown set "${set}"; sets: ${setNames.join(", ")}\n`);
      return 254;
    }
    const inChild = argv.includes("--child");
    const result = await runSet(set);
    process.stdout.write(inChild || json ? JSON.stringify(result) + "\n" : describeResult(result) + "\n");
    return 0;
  }
  const shared: SetResult[] = [];
  for (const set of setNames) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--set", set, "--child"], {
      encoding: "utf8",
      maxBuffer: 16 * 1024 * 1024,
    });
    if (child.status !== 0) {
      process.stderr.write(`set ${set} failed (exit ${child.status}):\n${child.stderr}`);
      return 1;
    }
    const result = JSON.parse(child.stdout.trim()) as SetResult;
    process.stdout.write(json ? JSON.stringify(result) + "\n" : describeResult(result) + "\n");
    if (sharedDataSets.includes(set)) {
      shared.push(result);
      if (shared.length === sharedDataSets.length) {
        const total = totalOf(shared);
        process.stdout.write(json ? JSON.stringify(total) + "\n" : describeResult(total) + "\n");
      }
    }
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench:checker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
