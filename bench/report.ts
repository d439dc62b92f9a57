// Report benchmark: `npm run bench:report [-- --ops 100000 --seed 10 --duration-s 60 --out DIR]`.
// Generates a seeded kv history (bench/generate-kv-history.ts, one planted stale read), spreads it
// over --duration-s of run time, adds synthetic fault windows (a partition and a kill in turn) and
// leader changes (node logs), checks it as `raftlab run` does, writes report.html and
// linearizability.html, opens each in Debian's Chromium (playwright-core) and prints each file's
// size, the time to first render (the load event, and the page's own "rendered" mark) and the
// median latency of a few interactions. Figures only: nothing here asserts a time.
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromium, type Page } from "playwright-core";
import { renderReportHtml } from "../checker/linearizability-html.js";
import type { ClientEvent, HistoryEvent, NemesisEvent } from "../history/event.js";
import { pairOperations } from "../history/operation-pairs.js";
import { kvPlugin } from "../plugins/kv/index.js";
import { runChecks } from "../harness/checks/compose.js";
import { explainVerdict } from "../harness/checks/explain.js";
import type { PerfReport } from "../harness/checks/perf.js";
import { createResultsFolder } from "../harness/results/results-folder.js";
import { exitCodeFor, opsOf, type RunSummary } from "../harness/results/summary.js";
import { writeRunResults } from "../harness/results/write-results.js";
import { seededRandom } from "../lib/rng.js";
import { generateKvHistory } from "./generate-kv-history.js";

const { values: options } = parseArgs({
  options: {
    ops: { type: "string", default: "100000" },
    seed: { type: "string", default: "10" },
    "duration-s": { type: "string", default: "60" },
    out: { type: "string" },
  },
});
const operationCount = Number(options.ops);
const seed = Number(options.seed);
const durationS = Number(options["duration-s"]);
const nodeCount = 5;
const faultEveryS = 10;
const faultLengthS = 4;
const historyStartedMs = Date.parse("2026-01-01T00:00:00.000Z");

interface Synthetic {
  events: HistoryEvent[];
  leaders: { timeS: number; node: number; term: number }[];
}

/** The generated client events over `durationS`, answered by the leader of the moment, with nemesis events merged in. */
function syntheticRun(): Synthetic {
  const client: ClientEvent[] = [];
  generateKvHistory({ operationCount, keyCount: 100, clientCount: 20, fault: "stale-read", seed }, (line) => client.push(JSON.parse(line) as ClientEvent));
  const random = seededRandom(seed);
  const leaders = [{ timeS: 0.2, node: 1, term: 1 }];
  const nemesis: NemesisEvent[] = [];
  const nemesisAt = (timeS: number, type: NemesisEvent["type"], f: string, value: NemesisEvent["value"]): void => {
    nemesis.push({ process: "nemesis", type, f, value, time: Math.round(timeS * 1e9), index: 0 });
  };
  for (let startS = faultEveryS / 2, round = 0; startS + faultLengthS < durationS; startS += faultEveryS, round += 1) {
    const victim = 1 + Math.floor(random() * nodeCount);
    if (round % 2 === 0) {
      const minority = [victim, 1 + (victim % nodeCount)];
      const majority = Array.from({ length: nodeCount }, (_, index) => index + 1).filter((node) => !minority.includes(node));
      const grudge = Object.fromEntries([...minority.map((node) => [String(node), majority]), ...majority.map((node) => [String(node), minority])]);
      nemesisAt(startS, "invoke", "partition-random-halves", null);
      nemesisAt(startS + 0.01, "info", "partition-random-halves", { grudge });
    } else {
      nemesisAt(startS, "invoke", "kill", null);
      nemesisAt(startS + 0.01, "info", "kill", { nodes: [victim], action: "SIGKILL" });
    }
    nemesisAt(startS + faultLengthS, "invoke", "heal", null);
    nemesisAt(startS + faultLengthS + 0.02, "info", "heal", { healed: true });
    const previous = leaders[leaders.length - 1] ?? { node: 1, term: 0 };
    const next = 1 + ((previous.node + Math.floor(random() * (nodeCount - 1))) % nodeCount);
    leaders.push({ timeS: startS + 0.3 + random() * 0.5, node: next, term: previous.term + 1 + Math.floor(random() * 2) });
  }
  const lastIndex = Math.max(1, client.length - 1);
  const leaderAt = (timeS: number): number => leaders.findLast((leader) => leader.timeS <= timeS)?.node ?? 1;
  for (const event of client) {
    event.time = Math.round((event.index / lastIndex) * durationS * 1e9);
    if (event.type !== "invoke") {
      event.node = String(leaderAt(event.time / 1e9));
    }
  }
  const events: HistoryEvent[] = [...client, ...nemesis].sort((left, right) => left.time - right.time || (left.process === "nemesis" ? -1 : 1));
  events.forEach((event, index) => {
    event.index = index;
  });
  return { events, leaders };
}

async function main(): Promise<void> {
  const directory = options.out ?? (await mkdtemp(join(tmpdir(), "raftlab-bench-report-")));
  const folder = await createResultsFolder({ root: directory, name: "bench-report", started: new Date(historyStartedMs), out: join(directory, "run") });
  const { events, leaders } = syntheticRun();
  for (let node = 1; node <= nodeCount; node += 1) {
    const lines = leaders
      .filter((leader) => leader.node === node)
      .map((leader) =>
        JSON.stringify({ time: new Date(historyStartedMs + leader.timeS * 1000).toISOString(), node, msg: "role changed", role: "leader", term: leader.term }),
      );
    await writeFile(join(folder.nodeLogDirectory, `node-${node}.log`), lines.map((line) => `${line}\n`).join(""));
  }
  const text = events.map((event) => JSON.stringify(event)).join("\n");
  await writeFile(folder.historyPath, `${text}\n`);
  const checkStarted = performance.now();
  const composed = await runChecks({ events, plugin: kvPlugin, checkerTimeoutMs: 120_000, logDirectory: folder.nodeLogDirectory, historyStartedMs });
  const checkMs = performance.now() - checkStarted;
  const summary: RunSummary = {
    name: "bench-report",
    seed,
    runtime: "local",
    plugin: "kv",
    nodes: nodeCount,
    started: new Date(historyStartedMs).toISOString(),
    history_started: new Date(historyStartedMs).toISOString(),
    duration_s: durationS,
    valid: composed.valid,
    checks: composed.checks,
    ops: opsOf(composed.checks),
    faults: (composed.checks["perf"] as PerfReport).faults,
    workload_file: "<bench/report.ts>",
    unsafe: [],
    final: null,
    exit_code: exitCodeFor(composed.valid),
  };
  const explanation = explainVerdict({ ...composed, events, plugin: kvPlugin });
  summary.explanation = explanation?.text ?? null;
  summary.caught_by = explanation?.check ?? null;
  summary.first_anomaly_s = explanation?.firstAnomalyS === undefined ? null : Math.round(explanation.firstAnomalyS * 1000) / 1000;
  const renderStarted = performance.now();
  if (composed.linearizability !== undefined) {
    const history = { file: "history.jsonl", events, lines: events.map((_, index) => index + 1), invokesAfterInfo: 0 };
    await writeFile(folder.linearizabilityReportPath, renderReportHtml({ file: "history.jsonl", plugin: kvPlugin, history, result: composed.linearizability }));
  }
  await writeRunResults({ folder, summary, pairs: pairOperations(events), hasLinearizabilityReport: composed.linearizability !== undefined });
  const renderMs = performance.now() - renderStarted;
  console.log(
    `${operationCount} operations, ${events.length} events over ${durationS} s, ${summary.faults.length} fault windows, ${leaders.length} leader changes; ` +
      `verdict ${String(summary.valid)}, first anomaly at ${String(summary.first_anomaly_s)} s; checks ${Math.round(checkMs)} ms, both pages written in ${Math.round(renderMs)} ms`,
  );
  console.log(
    `machine: ${cpus().length} cores, load average ${loadavg()
      .map((load) => load.toFixed(2))
      .join(" ")}; ${new Date().toISOString()}`,
  );
  console.log(`results folder: ${folder.directory}${options.out === undefined ? " (removed at the end; --out DIR keeps it, with screenshots)" : ""}`);

  const profile = await mkdtemp(join(tmpdir(), "raftlab-bench-report-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1400, height: 900 },
  });
  try {
    const report = await context.newPage();
    await measurePage(report, folder.reportPath, "raftlab-timeline-rendered", options.out === undefined ? undefined : join(directory, "report.png"), {
      hover: () => hoverTimeline(report),
      "zoom 2x": () => report.evaluate(() => frameAfter(() => (globalThis as unknown as TimelineGlobals).raftlabTimeline.zoom(2))),
      "pan (drag-equivalent setView)": () =>
        report.evaluate(() => {
          const timeline = (globalThis as unknown as TimelineGlobals).raftlabTimeline;
          const { start, end } = timeline.view;
          return frameAfter(() => timeline.setView(start + (end - start) / 4, end + (end - start) / 4));
        }),
    });
    const checker = await context.newPage();
    await measurePage(checker, folder.linearizabilityReportPath, "raftlab-report-rendered", undefined, {
      "toggle to wall time and back": () => checker.evaluate(() => frameAfter(() => (globalThis as unknown as ReportGlobals).toggle())),
      hover: () => checker.evaluate(() => frameAfter(() => (globalThis as unknown as ReportGlobals).hover())),
      "zoom in": () => checker.evaluate(() => frameAfter(() => (globalThis as unknown as ReportGlobals).zoomIn())),
      scroll: () => checker.evaluate(() => frameAfter(() => (globalThis as unknown as ReportGlobals).scroll())),
    });
    if (options.out !== undefined) {
      await checker.click("#axis-time");
      await checker.screenshot({ path: join(directory, "linearizability-wall-time.png") });
    }
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
    if (options.out === undefined) {
      await rm(directory, { recursive: true, force: true });
    }
  }
}

/** What the page helpers below see; installed into each page by `install`. */
interface TimelineGlobals {
  raftlabTimeline: { view: { start: number; end: number }; zoom(factor: number): void; setView(start: number, end: number): void };
}
interface ReportGlobals {
  toggle(): void;
  hover(): void;
  zoomIn(): void;
  scroll(): void;
}
declare function frameAfter(action: () => void): Promise<number>;

/** Page-side helpers: `frameAfter` runs an action and resolves with the ms until the frame after it was painted. */
const pageHelpers = String.raw`
window.frameAfter = function (action) {
  return new Promise(function (resolve) {
    var started = performance.now();
    action();
    requestAnimationFrame(function () { setTimeout(function () { resolve(performance.now() - started); }, 0); });
  });
};
window.toggle = function () { document.getElementById("axis-time").click(); document.getElementById("axis-event").click(); };
window.hover = function () {
  var box = document.getElementById("scroller").getBoundingClientRect();
  document.getElementById("scroller").dispatchEvent(new MouseEvent("mousemove", { bubbles: true, clientX: box.left + box.width / 2, clientY: box.top + 60 }));
};
window.zoomIn = function () { document.getElementById("zoom-in").click(); };
window.scroll = function () { var scroller = document.getElementById("scroller"); scroller.scrollLeft += scroller.clientWidth; };
`;

async function hoverTimeline(page: Page): Promise<number> {
  return page.evaluate(() =>
    frameAfter(() => {
      const document = (
        globalThis as unknown as {
          document: {
            getElementById(id: string): { getBoundingClientRect(): { left: number; top: number; width: number }; dispatchEvent(event: unknown): void };
          };
        }
      ).document;
      const root = document.getElementById("timeline");
      const box = root.getBoundingClientRect();
      const MouseEventClass = (globalThis as unknown as { MouseEvent: new (type: string, init: object) => unknown }).MouseEvent;
      root.dispatchEvent(new MouseEventClass("mousemove", { bubbles: true, clientX: box.left + box.width / 2, clientY: box.top + 100 }));
    }),
  );
}

/** Prints the page's size, first render and interaction latencies; `screenshot`: where to save the first screen as rendered. */
async function measurePage(
  page: Page,
  file: string,
  renderedMark: string,
  screenshot: string | undefined,
  interactions: Record<string, () => Promise<number>>,
): Promise<void> {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.addInitScript(pageHelpers);
  const bytes = (await stat(file)).size;
  await page.goto(`file://${file}`, { waitUntil: "load" });
  await page.waitForFunction((mark) => performance.getEntriesByName(mark).length > 0, renderedMark);
  const timing = await page.evaluate((mark) => {
    const entries = (performance as unknown as { getEntriesByType(type: string): { loadEventEnd: number }[] }).getEntriesByType("navigation");
    return { loadMs: entries[0]?.loadEventEnd ?? Number.NaN, renderedMs: performance.getEntriesByName(mark)[0]?.startTime ?? Number.NaN };
  }, renderedMark);
  if (screenshot !== undefined) {
    await page.screenshot({ path: screenshot, fullPage: true });
  }
  const name = file.split("/").pop() ?? file;
  console.log(
    `${name}: ${(bytes / 1e6).toFixed(2)} MB; first render: "${renderedMark}" at ${Math.round(timing.renderedMs)} ms, load event end ${Math.round(timing.loadMs)} ms`,
  );
  for (const [interaction, measure] of Object.entries(interactions)) {
    const samples: number[] = [];
    for (let repeat = 0; repeat < 5; repeat += 1) {
      samples.push(await measure());
    }
    samples.sort((left, right) => left - right);
    console.log(
      `  ${interaction}: median ${(samples[2] ?? Number.NaN).toFixed(1)} ms to the next frame (min ${(samples[0] ?? Number.NaN).toFixed(1)}, max ${(samples[4] ?? Number.NaN).toFixed(1)})`,
    );
  }
  if (errors.length > 0) {
    console.log(`  page errors: ${errors.join("; ")}`);
    process.exitCode = 1;
  }
}

await main();
