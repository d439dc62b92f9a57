// The HTML view in a real browser (Debian's Chromium through playwright-core): lanes and bars are
// drawn, the op that cannot be linearized is marked, clicking an op shows the model state, and a
// 20k-operation history renders without errors.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { launchChromium } from "../lib/testing/launch-chromium.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { kvPlugin } from "../plugins/kv/index.js";
import { parseHistory, readHistoryFile, type ParsedHistory } from "../history/parse.js";
import { simulateHistory } from "../history/simulate-history.js";
import { seededRandom } from "../lib/rng.js";
import { checkOperations, readOnlyOperations } from "./linearizable.js";
import { historyOperations } from "./operations.js";
import { renderReportHtml } from "./linearizability-html.js";

const dataDirectory = join(dirname(fileURLToPath(import.meta.url)), "testdata/reference");

interface ReportHandle {
  lanes: number;
  operations: number;
  drawnBars: number;
  selectedOperation: number;
  badOperations: number[];
  selectPartition(index: number): void;
  barCenter(operation: number): { x: number; y: number };
}

/** What the page offers; the tests are typed without the DOM library, so casts go through this. */
interface BrowserGlobals {
  raftlabReport: ReportHandle | undefined;
  document: { getElementById(id: string): { scrollLeft: number; scrollTop: number; scrollWidth: number; scrollHeight: number } };
}

let directory: string;
let context: BrowserContext;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "raftlab-report-"));
  context = await launchChromium(join(directory, "profile"), { width: 1400, height: 800 });
});

afterAll(async () => {
  await context?.close();
  await rm(directory, { recursive: true, force: true });
});

async function openReport(name: string, history: ParsedHistory): Promise<{ page: Page; errors: string[] }> {
  const { operations } = historyOperations(history.events);
  const result = checkOperations(kvPlugin.model, operations, { readOnly: readOnlyOperations(kvPlugin) });
  const file = join(directory, `${name}.html`);
  await writeFile(file, renderReportHtml({ file: history.file, plugin: kvPlugin, history, result }));
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") {
      errors.push(message.text());
    }
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("request", (request) => {
    if (!request.url().startsWith("file:")) {
      errors.push(`network request: ${request.url()}`);
    }
  });
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction(() => ((globalThis as unknown as BrowserGlobals).raftlabReport?.drawnBars ?? 0) > 0);
  return { page, errors };
}

describe("HTML report", () => {
  test("an illegal history: lanes, bars, the bad op marked, states on click", async () => {
    const { page, errors } = await openReport("c10-bad", await readHistoryFile(join(dataDirectory, "kv__c10-bad.jsonl")));
    const summary = await page.evaluate(() => {
      const report = (globalThis as unknown as BrowserGlobals).raftlabReport as ReportHandle;
      return {
        lanes: report.lanes,
        operations: report.operations,
        drawnBars: report.drawnBars,
        badOperations: report.badOperations,
      };
    });
    expect(summary.lanes).toBe(10);
    expect(summary.operations).toBe(405);
    expect(summary.drawnBars).toBeGreaterThan(10);
    expect(summary.badOperations).toHaveLength(1);
    expect(await page.textContent("#verdict")).toBe("illegal");
    expect(await page.locator("#partition option").count()).toBe(11);
    // The prefix list ends with the op that cannot follow.
    expect(await page.locator("#prefix-rows .row.bad-op").textContent()).toMatch(/^\u2717 get "0" -> /);

    const bad = summary.badOperations[0] as number;
    const badCenter = await page.evaluate((operation) => ((globalThis as unknown as BrowserGlobals).raftlabReport as ReportHandle).barCenter(operation), bad);
    await page.mouse.click(badCenter.x, badCenter.y);
    expect(await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).raftlabReport as ReportHandle).selectedOperation)).toBe(bad);
    expect(await page.locator("#details .bad-op").textContent()).toMatch(
      /CANNOT BE LINEARIZED after the longest prefix \(\d+ ops\)\nmodel state at that point: "x /,
    );

    await page.locator("#prefix-rows .row").first().click();
    expect(await page.textContent("#details")).toMatch(/prefix #1 of \d+\nstate before: \(initial\)\nstate after: {2}"x /);
    expect(errors).toEqual([]);
    await page.close();
  });

  test("a violation found without a search: the cycle of orders is listed instead of an empty prefix", async () => {
    // put x 1 returned before get x was called, yet the get saw the initial (absent) value.
    const text = [
      { index: 0, time: 0, process: 0, type: "invoke", f: "put", key: "x", value: "1" },
      { index: 1, time: 1_000_000, process: 0, type: "ok", f: "put", key: "x", value: null },
      { index: 2, time: 2_000_000, process: 1, type: "invoke", f: "get", key: "x", value: null },
      { index: 3, time: 3_000_000, process: 1, type: "ok", f: "get", key: "x", value: null },
    ]
      .map((event) => JSON.stringify(event))
      .join("\n");
    const { page, errors } = await openReport("stale-read", parseHistory(text, "stale-read.jsonl"));
    expect(await page.textContent("#verdict")).toBe("illegal");
    expect(await page.textContent("#prefix-title")).toMatch(/^Why "x" cannot be linearized: a cycle of \d+ orders$/);
    const rows = await page.locator("#prefix-rows .row").allTextContents();
    expect(rows[0]).toMatch(/^\u2717 /);
    expect(rows.slice(1).join("\n")).toContain('put "x" "1"');
    expect(rows.join("\n")).not.toContain("(state null)");
    const bad = (await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).raftlabReport as ReportHandle).badOperations))[0] as number;
    const center = await page.evaluate((operation) => ((globalThis as unknown as BrowserGlobals).raftlabReport as ReportHandle).barCenter(operation), bad);
    await page.mouse.click(center.x, center.y);
    expect(await page.locator("#details .bad-op").textContent()).toMatch(/CANNOT BE LINEARIZED: \S/);
    expect(errors).toEqual([]);
    await page.close();
  });

  test("a 20k-operation history renders and scrolls without errors", async () => {
    const events = simulateHistory(kvPlugin, {
      clientCount: 20,
      operationCount: 20_000,
      keys: Array.from({ length: 50 }, (_, index) => `k${index}`),
      infoProbability: 0.05,
      failProbability: 0.02,
      random: seededRandom(7),
    });
    const text = events.map((event) => JSON.stringify(event)).join("\n");
    const { page, errors } = await openReport("generated-20k", parseHistory(text, "generated-20k.jsonl"));
    expect(await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).raftlabReport as ReportHandle).operations)).toBe(20_000);
    expect(await page.textContent("#verdict")).toBe("ok");
    await page.click("#zoom-in");
    await page.evaluate(() => {
      const scroller = (globalThis as unknown as BrowserGlobals).document.getElementById("scroller");
      scroller.scrollLeft = scroller.scrollWidth / 2;
      scroller.scrollTop = scroller.scrollHeight / 2;
    });
    await page.waitForFunction(() => ((globalThis as unknown as BrowserGlobals).raftlabReport?.drawnBars ?? 0) > 0);
    await page.selectOption("#partition", "3");
    await page.mouse.move(700, 400);
    expect(errors).toEqual([]);
    await page.close();
  });
});
