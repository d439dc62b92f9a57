// Checker benchmark: `npm run bench:checker [-- --json] [-- --set NAME]`.
// Each set runs in a fresh child process so that its time includes a cold JIT, as `raftlab check`
// does, and its peak RSS is its own. Figures are wall milliseconds for parse + pair + check.
//
// Sets: etcd (every jepsen__etcd_* reference history), c50-ok (kv__c50-ok*), gen-10k and gen-100k
// (generated: simulated concurrent clients on a linearizable kv, 100 keys, 5% info, fixed seed).
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Plugin } from "../plugins/api.js";
import { loadPlugin } from "../plugins/registry.js";
import { checkOperations, readOnlyOperations, type Verdict } from "../harness/checker/linearizable.js";
import { pairOperations } from "../harness/checker/operations.js";
import { parseHistory } from "../harness/history/parse.js";
import { readFile } from "node:fs/promises";
import { seededRandom, simulateHistory } from "../harness/history/simulate-history.js";

const dataDirectory = join(dirname(fileURLToPath(import.meta.url)), "../../shared/checker-data");
const setNames = ["etcd", "c50-ok", "gen-10k", "gen-100k"] as const;
type SetName = (typeof setNames)[number];

interface SetResult {
  set: SetName;
  files: number;
  ops: number;
  ms: number;
  /** Of `ms`, the time inside checkOperations. */
  check_ms: number;
  /** CPU time (user + system) over the same span: the machine may be shared, wall time is not. */
  cpu_ms: number;
  peak_rss_mb: number;
  verdicts: Partial<Record<Verdict, number>>;
}

interface HistoryText {
  name: string;
  text: string;
}

async function loadKvPlugin(): Promise<Plugin> {
  return loadPlugin("kv");
}

async function historiesOf(set: SetName, plugin: Plugin): Promise<HistoryText[]> {
  if (set === "etcd" || set === "c50-ok") {
    const prefix = set === "etcd" ? "jepsen__etcd_" : "kv__c50-ok";
    const names = readdirSync(dataDirectory).filter((name) => name.startsWith(prefix) && name.endsWith(".jsonl"));
    return Promise.all(names.map(async (name) => ({ name, text: await readFile(join(dataDirectory, name), "utf8") })));
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
  return [{ name: set, text: events.map((event) => JSON.stringify(event)).join("\n") + "\n" }];
}

async function runSet(set: SetName): Promise<SetResult> {
  const plugin = await loadKvPlugin();
  const histories = await historiesOf(set, plugin);
  const readOnly = readOnlyOperations(plugin);
  const verdicts: Partial<Record<Verdict, number>> = {};
  let ops = 0;
  let checkMs = 0;
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  for (const history of histories) {
    // Some converted reference histories reuse a process after an info read (see ParseOptions).
    const parsed = parseHistory(history.text, history.name, { allowInvokeAfterInfo: true });
    const { operations } = pairOperations(parsed.events);
    const result = checkOperations(plugin.model, operations, { readOnly, timeoutMs: 120_000 });
    ops += operations.length;
    checkMs += result.elapsedMs;
    verdicts[result.verdict] = (verdicts[result.verdict] ?? 0) + 1;
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
  };
}

function describeResult(result: SetResult): string {
  const verdicts = Object.entries(result.verdicts)
    .map(([verdict, count]) => `${count} ${verdict}`)
    .join(", ");
  return `${result.set.padEnd(9)} ${String(result.files).padStart(3)} files ${String(result.ops).padStart(7)} ops  ${String(result.ms).padStart(6)} ms (check ${result.check_ms} ms, cpu ${result.cpu_ms} ms)  peak RSS ${result.peak_rss_mb} MB  [${verdicts}]`;
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
