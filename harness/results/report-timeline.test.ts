// What a person sees in a run's pages, in real headless Chromium (Debian's chromium through
// playwright-core): report.html's timeline shows each fault window as a labelled band, each leader
// change as a marker naming the node and term, and the first anomaly at its run time;
// linearizability.html's wall-time axis shows lanes with answering nodes and the fault bands.
// Screenshots go to test-output/browser/.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { launchChromium } from "../../lib/testing/launch-chromium.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createResultsFolder, type ResultsFolder } from "./results-folder.js";
import type { RunSummary } from "./summary.js";
import { writeTimelineRun } from "./testing/timeline-fixture.js";

const screenshots = join(dirname(fileURLToPath(import.meta.url)), "../../test-output/browser");

interface TimelineHandle {
  view: { start: number; end: number };
  pointAt(timeS: number): { x: number; y: number };
  zoom(factor: number, centerS?: number): void;
  draw(): void;
}
interface ReportHandle {
  mode: string;
  bandLabels: string[];
  laneLabels(): string[];
  drawnBars: number;
  badOperations: number[];
  barCenter(operation: number): { x: number; y: number };
  draw(): void;
}
interface BrowserGlobals {
  raftlabTimeline: TimelineHandle | undefined;
  raftlabReport: ReportHandle | undefined;
}

let directory: string;
let context: BrowserContext;
let folder: ResultsFolder;
let summary: RunSummary;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "raftlab-timeline-"));
  await mkdir(screenshots, { recursive: true });
  folder = await createResultsFolder({ root: directory, name: "timeline", started: new Date(), out: join(directory, "run") });
  summary = await writeTimelineRun(folder);
  context = await launchChromium(join(directory, "profile"), { width: 1200, height: 900 });
});

afterAll(async () => {
  await context?.close();
  await rm(directory, { recursive: true, force: true });
});

async function open(file: string): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") {
      errors.push(message.text());
    }
  });
  page.on("request", (request) => {
    if (!request.url().startsWith("file:")) {
      errors.push(`network request: ${request.url()}`);
    }
  });
  await page.goto(pathToFileURL(file).href);
  return { page, errors };
}

describe("report.html timeline", () => {
  test("fault bands with kind and nodes, leader changes with node and term, the first anomaly at its time", async () => {
    expect(summary.valid).toBe(false);
    expect(summary.first_anomaly_s).toBe(4);
    const { page, errors } = await open(folder.reportPath);
    await page.waitForFunction(() => (globalThis as unknown as BrowserGlobals).raftlabTimeline !== undefined);

    expect(await page.locator("#timeline .band-label").allTextContents()).toEqual(["partition-halves 1 2 | 3 4 5", "kill node 2"]);
    expect(await page.locator("#timeline .leader .marker-label").allTextContents()).toEqual(["n1 t1", "n3 t2", "n1 t3"]);
    expect(await page.locator("#anomaly-marker").textContent()).toBe("first anomaly 4.000 s p1 n3");
    for (const band of await page.locator("#timeline .band").all()) {
      expect(await band.isVisible()).toBe(true);
    }

    // Each mark sits where its time is on the axis (the page's own mapping of run time to pixels).
    const left = async (selector: string): Promise<number> => (await page.locator(selector).boundingBox())?.x ?? Number.NaN;
    const xAt = async (timeS: number): Promise<number> => (await page.evaluate((at) => ((globalThis as unknown as BrowserGlobals).raftlabTimeline as TimelineHandle).pointAt(at), timeS)).x;
    expect(Math.abs((await left("#anomaly-marker")) - (await xAt(4)))).toBeLessThan(2);
    expect(Math.abs((await left("#timeline .band >> nth=0")) - (await xAt(1)))).toBeLessThan(2);
    expect(Math.abs((await left("#timeline .band >> nth=1")) - (await xAt(5)))).toBeLessThan(2);
    expect(Math.abs((await left("#timeline .leader >> nth=1")) - (await xAt(1.5)))).toBeLessThan(2);
    // Bands and markers lie in time order, left to right.
    expect(await xAt(1)).toBeLessThan(await xAt(4));

    await page.locator("#timeline").scrollIntoViewIfNeeded();
    // Hovering inside the partition names it; clicking the anomaly keeps its explanation below.
    const inPartition = await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).raftlabTimeline as TimelineHandle).pointAt(2));
    await page.mouse.move(inPartition.x, inPartition.y);
    expect(await page.locator("#timeline-tooltip").textContent()).toMatch(/fault: partition-halves on 1 2 \| 3 4 5 from 1\.000 s to 3\.000 s/);
    const atAnomaly = await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).raftlabTimeline as TimelineHandle).pointAt(4));
    await page.mouse.click(atAnomaly.x, atAnomaly.y);
    expect(await page.locator("#timeline-details").textContent()).toMatch(/first anomaly \(linearizable\): get "a" -> "1" by process 1/);
    await page.screenshot({ path: join(screenshots, "report-timeline.png"), fullPage: true });

    // Zooming into the partition keeps its band and drops the kill's out of view.
    await page.evaluate(() => {
      const timeline = (globalThis as unknown as BrowserGlobals).raftlabTimeline as TimelineHandle;
      timeline.zoom(4, 2);
      // Draw now rather than on the next animation frame, so what follows reads the zoomed view.
      timeline.draw();
    });
    expect(await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).raftlabTimeline as TimelineHandle).view)).toEqual({ start: 1.5, end: 3.25 });
    expect(await page.locator("#timeline .band >> nth=1").isVisible()).toBe(false);
    expect(await page.locator("#timeline .band >> nth=0").isVisible()).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe("linearizability.html wall-time axis", () => {
  test("the toggle shows lanes labelled with answering nodes and the fault bands in run time", async () => {
    const { page, errors } = await open(folder.linearizabilityReportPath);
    await page.waitForFunction(() => ((globalThis as unknown as BrowserGlobals).raftlabReport?.drawnBars ?? 0) > 0);
    expect(await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).raftlabReport as ReportHandle).mode)).toBe("event");
    expect(await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).raftlabReport as ReportHandle).laneLabels())).toEqual(["p0", "p1", "p2"]);

    await page.click("#axis-time");
    expect(await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).raftlabReport as ReportHandle).mode)).toBe("time");
    expect(await page.getAttribute("#axis-time", "class")).toBe("active");
    expect(await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).raftlabReport as ReportHandle).laneLabels())).toEqual(["p0 n1", "p1 n3", "p2"]);
    // Fit the whole run: both fault windows are drawn, labelled with kind and nodes.
    await page.click("#zoom-fit");
    // Draw now rather than on the next animation frame, so what follows reads the fitted view.
    await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).raftlabReport as ReportHandle).draw());
    expect(await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).raftlabReport as ReportHandle).bandLabels)).toEqual(["partition-halves 1 2 | 3 4 5", "kill node 2"]);
    expect(await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).raftlabReport as ReportHandle).drawnBars)).toBe(6);
    await page.screenshot({ path: join(screenshots, "linearizability-wall-time.png") });

    // The operation that cannot be linearized is marked in this view too: clicking it says so, with its run time.
    const bad = await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).raftlabReport as ReportHandle).badOperations);
    expect(bad).toHaveLength(1);
    const center = await page.evaluate((operation) => ((globalThis as unknown as BrowserGlobals).raftlabReport as ReportHandle).barCenter(operation), bad[0] as number);
    await page.mouse.click(center.x, center.y);
    expect(await page.locator("#details .bad-op").textContent()).toMatch(/^get "a" -> "1"\np1 n3, line 11-12, 4\.000 s to 4\.100 s\n.*CANNOT BE LINEARIZED/s);

    await page.click("#axis-event");
    expect(await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).raftlabReport as ReportHandle).mode)).toBe("event");
    expect(errors).toEqual([]);
    await page.close();
  });
});
