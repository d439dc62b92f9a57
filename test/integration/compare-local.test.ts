// `raftlab compare` end to end on the local runtime (2 plugins x 2 seeds, 5 s runs): comparison.json
// agrees with each run's own summary.json, each seed's runs met the same faults on the same nodes,
// and a person can use the pages: compare.html's matrix links to each run's report, the served
// index lists and filters runs and comparisons. Pages open in real headless Chromium; screenshots
// go to test-output/browser/. Needs `npm run build`; run under the cluster lock.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BrowserContext } from "playwright-core";
import { launchChromium } from "../../lib/testing/launch-chromium.js";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import type { Comparison } from "../../harness/compare/comparison.js";
import { median } from "../../harness/compare/run-metrics.js";
import type { RunSummary } from "../../harness/results/summary.js";
import { startResultsServer } from "../../harness/serve/server.js";
import { interruptRuns, projectRoot, requireBuiltCli, runCli, type CliRun } from "../support/run-cli.js";

const screenshots = join(projectRoot, "test-output", "browser");
let directory: string;
let resultsRoot: string;
let comparisonDirectory: string;
let run: CliRun;
let comparison: Comparison;
let context: BrowserContext;
let server: Server;
let serverUrl: string;

beforeAll(async () => {
  requireBuiltCli();
  directory = await mkdtemp(join(tmpdir(), "raftlab-compare-"));
  resultsRoot = join(directory, "results");
  comparisonDirectory = join(resultsRoot, "compare", "cmp-test", "20261204T000000Z");
  await mkdir(screenshots, { recursive: true });
  const workload = join(directory, "cmp-test.yaml");
  await writeFile(
    workload,
    [
      "name: cmp-test",
      "nodes: 3",
      "duration: 5s",
      "clients: { concurrency: 2n, timeout: 1s, keys: 3 }",
      "nemesis: { interval: 1s, faults: [partition-one, kill] }",
      "final: { recovery: 1s }",
    ].join("\n"),
  );
  run = await runCli(["compare", workload, "--plugins", "kv,counter", "--seeds", "1,2", "--runtime", "local", "--out", comparisonDirectory]);
  comparison = JSON.parse(await readFile(join(comparisonDirectory, "comparison.json"), "utf8")) as Comparison;
  ({ server, url: serverUrl } = await startResultsServer({ root: resultsRoot, host: "127.0.0.1", port: 0 }));
  context = await launchChromium(join(directory, "profile"), { width: 1300, height: 900 });
}, 600_000);
afterEach(interruptRuns);
afterAll(async () => {
  await context?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await rm(directory, { recursive: true, force: true });
});

async function summaryOf(runDirectory: string): Promise<RunSummary> {
  return JSON.parse(await readFile(join(comparisonDirectory, runDirectory, "summary.json"), "utf8")) as RunSummary;
}

describe("raftlab compare (local runtime)", () => {
  test("exits with the worst verdict and prints the table", () => {
    expect(run.stderr).toMatch(/run 1 of 4: kv--workload--s1 \(~\S+ left\)/);
    expect(run.stderr).toMatch(/run 4 of 4: counter--workload--s2/);
    expect(run.code).toBe(comparison.exit_code);
    expect(comparison.worst).toBe("valid");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^cmp-test: worst verdict VALID over 4 run\(s\) \(local\)$/m);
  });

  test("comparison.json agrees with every run's own summary.json", async () => {
    expect(comparison.cells.map((cell) => cell.id)).toEqual(["kv--workload--s1", "counter--workload--s1", "kv--workload--s2", "counter--workload--s2"]);
    const throughputs: Record<string, number[]> = { kv: [], counter: [] };
    for (const cell of comparison.cells) {
      const summary = await summaryOf(cell.run_dir);
      expect([summary.plugin, summary.seed, summary.runtime]).toEqual([cell.plugin, cell.seed, "local"]);
      expect(cell.status).toBe(summary.valid === true ? "valid" : summary.valid === false ? "invalid" : "unknown");
      expect(cell.exit_code).toBe(summary.exit_code);
      expect(cell.verdicts).toEqual(Object.fromEntries(Object.entries(summary.checks).map(([name, report]) => [name, report.valid])));
      const perf = summary.checks["perf"] as unknown as { throughputOpsPerS: number; latency: Record<string, unknown> };
      expect(cell.metrics?.throughput_ops_per_s).toBe(perf.throughputOpsPerS);
      expect(cell.metrics?.latency_ms).toEqual(perf.latency);
      const total = summary.ops.total;
      expect(cell.metrics?.info_rate).toBeCloseTo(total.info / total.invoked, 4);
      expect(cell.metrics?.fail_rate).toBeCloseTo(total.fail / total.invoked, 4);
      expect(cell.metrics?.checker.elapsed_ms).toBe((summary.checks["linearizable"] as unknown as { elapsedMs: number }).elapsedMs);
      // Every injected fault that was healed during the run has a recovery entry.
      const healed = summary.faults.filter((fault) => !(typeof fault.value === "object" && fault.value !== null && "error" in fault.value));
      expect(cell.metrics?.recovery.map((entry) => entry.fault)).toEqual(healed.map((fault) => fault.f));
      expect(cell.metrics?.leader_changes?.total).toBeGreaterThanOrEqual(0);
      throughputs[cell.plugin]?.push(perf.throughputOpsPerS);
    }
    for (const plugin of ["kv", "counter"]) {
      const aggregate = comparison.aggregates.find((entry) => entry.plugin === plugin);
      expect(aggregate?.counts.valid).toBe(2);
      expect(aggregate?.metrics["throughput_ops_per_s"]?.median).toBeCloseTo(median(throughputs[plugin] ?? [])!, 3);
    }
  });

  test("each seed's runs met the same faults on the same nodes, whatever the plugin", async () => {
    for (const seed of [1, 2]) {
      const faults = await Promise.all(
        ["kv", "counter"].map(async (plugin) =>
          (await summaryOf(`runs/${plugin}--workload--s${seed}`)).faults.map((fault) => ({ f: fault.f, value: fault.value, startS: fault.startS })),
        ),
      );
      const [kv, counter] = faults as [{ f: string; value: unknown; startS: number }[], { f: string; value: unknown; startS: number }[]];
      expect(kv.length).toBeGreaterThan(0);
      expect(counter.map(({ f, value }) => ({ f, value }))).toEqual(kv.map(({ f, value }) => ({ f, value })));
      // Planned at the same offsets: the start times differ only by how long the leader took to appear.
      for (const [index, fault] of kv.entries()) {
        expect(Math.abs(fault.startS - counter[index]!.startS)).toBeLessThan(1.5);
      }
    }
  });
});

describe("pages in a browser", () => {
  test("compare.html: the matrix shows one coloured cell per run, each opening its report", async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.goto(pathToFileURL(join(comparisonDirectory, "compare.html")).href);
    const cells = page.locator("table.matrix a.cell");
    expect(await cells.count()).toBe(4);
    expect(await cells.evaluateAll((links) => links.map((link) => `${link.getAttribute("data-cell")}=${link.getAttribute("data-status")}`))).toEqual([
      "kv--workload--s1=valid",
      "kv--workload--s2=valid",
      "counter--workload--s1=valid",
      "counter--workload--s2=valid",
    ]);
    expect(
      await cells
        .first()
        .evaluate(
          (link) => (globalThis as unknown as { getComputedStyle(element: unknown): { backgroundColor: string } }).getComputedStyle(link).backgroundColor,
        ),
    ).toBe("rgb(43, 138, 62)");
    expect(await page.locator("table.metrics").count()).toBe(1);
    expect(await page.locator(".charts svg").count()).toBeGreaterThan(10);
    await page.screenshot({ path: join(screenshots, "compare.png"), fullPage: true });
    await cells.first().click();
    await page.waitForURL(/runs\/kv--workload--s1\/report\.html$/);
    expect((await page.locator("#verdict").textContent())?.toLowerCase()).toBe("valid");
    await page.screenshot({ path: join(screenshots, "report.png"), fullPage: false });
    expect(errors).toEqual([]);
    await page.close();
  });

  test("the served index lists runs and the comparison newest first, and filters them", async () => {
    const page = await context.newPage();
    await page.goto(serverUrl);
    const rows = page.locator("tr.entry");
    const visible = async (): Promise<string[]> =>
      rows.evaluateAll((elements) =>
        elements
          .filter((row) => (row as unknown as { style: { display: string } }).style.display !== "none")
          .map((row) => `${row.getAttribute("data-kind")}:${row.getAttribute("data-plugin")}`),
      );
    expect(await rows.count()).toBe(5);
    expect(await visible()).toEqual(["run:|counter|", "run:|kv|", "run:|counter|", "run:|kv|", "comparison:|kv|counter|"]);
    await page.selectOption("#filter-plugin", "counter");
    expect(await visible()).toEqual(["run:|counter|", "run:|counter|", "comparison:|kv|counter|"]);
    expect(await page.locator("#shown").textContent()).toBe("3 of 5 shown");
    await page.selectOption("#filter-verdict", "invalid");
    expect(await visible()).toEqual([]);
    await page.selectOption("#filter-verdict", "");
    await page.screenshot({ path: join(screenshots, "index.png"), fullPage: true });
    // The comparison's page and a run's linearizability view open from the index.
    await page.locator('tr.entry[data-kind="comparison"] a', { hasText: "compare.html" }).click();
    await page.waitForURL(/compare\.html$/);
    expect(await page.locator("table.matrix a.cell").count()).toBe(4);
    await page.goBack();
    await page.locator("tr.entry").first().locator("a", { hasText: "linearizability.html" }).click();
    await page.waitForURL(/linearizability\.html$/);
    expect(page.url()).toMatch(/runs\/counter--workload--s2\/linearizability\.html$/);
    await page.close();
  });
});

describe("a crashed cell, bad input, and run --seeds", () => {
  test("a plugin whose nodes cannot start: its cell is crashed, the next cell still runs, exit 255", async () => {
    const workload = join(directory, "crash.yaml");
    await writeFile(workload, ["name: crash", "duration: 2s", "clients: { concurrency: 2, timeout: 1s }", "final: { recovery: 1s }"].join("\n"));
    const out = join(directory, "crash-out");
    const fixture = join(projectRoot, "test", "integration", "fixtures", "node-refusing-plugin.ts");
    const crashed = await runCli(["compare", workload, "--plugins", `${fixture},kv`, "--seeds", "3", "--runtime", "local", "--out", out]);
    const result = JSON.parse(await readFile(join(out, "comparison.json"), "utf8")) as Comparison;
    expect(result.cells.map((cell) => [cell.id, cell.status])).toEqual([
      ["node-refusing-plugin--workload--s1", "crashed"],
      ["kv--workload--s1", "valid"],
      ["node-refusing-plugin--workload--s2", "crashed"],
      ["kv--workload--s2", "valid"],
      ["node-refusing-plugin--workload--s3", "crashed"],
      ["kv--workload--s3", "valid"],
    ]);
    expect(result.cells[0]?.error).toBeTruthy();
    expect([crashed.code, result.worst, result.exit_code]).toEqual([255, "crashed", 255]);
  });

  test("bad input exits 254 naming the flag, before any cluster", async () => {
    const workload = join(directory, "cmp-test.yaml");
    const bad = await runCli(["compare", workload, "--plugins", "kv,nope", "--runtime", "local"]);
    expect(bad.code).toBe(254);
    expect(bad.stderr).toMatch(/^command line: --plugins: unknown plugin "nope"/m);
    const seeds = await runCli(["run", workload, "--seeds", "0", "--runtime", "local"]);
    expect(seeds.code).toBe(254);
    expect(seeds.stderr).toMatch(/^command line: --seeds: expected 1 to 1000 seeds, got 0$/m);
  });

  test("run --seeds repeats the workload with overrides and prints a verdict table with the spread", async () => {
    const workload = join(directory, "cmp-test.yaml");
    const out = join(directory, "repeats");
    const repeated = await runCli([
      "run",
      workload,
      "--seeds",
      "4..5",
      "--plugin",
      "counter",
      "--concurrency",
      "2",
      "--duration",
      "2s",
      "--runtime",
      "local",
      "--out",
      out,
    ]);
    expect(repeated.code).toBe(0);
    expect(repeated.stderr).toMatch(/the workload's mix names operations counter lacks|\[seed 4, run 1 of 2\]/);
    expect(repeated.stdout).toMatch(/^\s+4 {2}VALID /m);
    expect(repeated.stdout).toMatch(/^\s+5 {2}VALID /m);
    expect(repeated.stdout).toMatch(/^2 of 2 run\(s\): 2 valid, 0 invalid, 0 unknown, 0 crashed$/m);
    expect(repeated.stdout).toMatch(/^throughput: median \S+ ops\/s, min \S+, max \S+ \(spread \S+% of the median\)$/m);
    for (const seed of [4, 5]) {
      const summary = JSON.parse(await readFile(join(out, `seed-${seed}`, "summary.json"), "utf8")) as RunSummary;
      expect([summary.seed, summary.plugin, Object.keys(summary.ops.byF).sort()]).toEqual([seed, "counter", ["add", "read"]]);
    }
  });
});
