import { mkdtemp, readFile, readdir, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { kvPlugin } from "../../plugins/kv/index.js";
import { runChecks } from "../checks/compose.js";
import { pairOperations } from "../../history/operation-pairs.js";
import type { PerfReport } from "../checks/perf.js";
import type { HistoryEvent } from "../../history/event.js";
import { createResultsFolder, runTimestamp, updateLatestLink } from "./results-folder.js";
import { exitCodeFor, opsOf, type RunSummary } from "./summary.js";
import { writeRunResults } from "./write-results.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "raftlab-results-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A small kv history with a partition, a stale read and some timeouts. */
function staleReadHistory(): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  let time = 0;
  const add = (event: Record<string, unknown>): void => {
    time += 3_000_000;
    events.push({ ...event, index: events.length, time } as unknown as HistoryEvent);
  };
  add({ process: "nemesis", type: "invoke", f: "partition-leader", value: null });
  add({ process: "nemesis", type: "info", f: "partition-leader", value: { isolated: [1] } });
  add({ process: 0, type: "invoke", f: "put", key: "a", value: "1" });
  add({ process: 0, type: "ok", f: "put", key: "a", value: null, node: "2" });
  add({ process: 1, type: "invoke", f: "get", key: "a", value: null });
  add({ process: 1, type: "ok", f: "get", key: "a", value: null, node: "1" });
  add({ process: 2, type: "invoke", f: "put", key: "b", value: "2" });
  add({ process: 2, type: "info", f: "put", key: "b", value: "2", error: "REQUEST_TIMEOUT: no answer" });
  add({ process: "nemesis", type: "invoke", f: "heal", value: "partition-leader" });
  add({ process: "nemesis", type: "info", f: "heal", value: { healed: true } });
  return events;
}

describe("results folder", () => {
  it("names runs by timestamp under results/<name>/ and points latest at the newest", async () => {
    const started = new Date("2025-11-29T01:48:18.123Z");
    expect(runTimestamp(started)).toBe("20251129T014818Z");
    const first = await createResultsFolder({ root, name: "kv-kill", started });
    const second = await createResultsFolder({ root, name: "kv-kill", started });
    expect(first.directory).toBe(join(root, "kv-kill", "20251129T014818Z"));
    expect(second.directory).toBe(join(root, "kv-kill", "20251129T014818Z-2"));
    expect(await readdir(first.directory)).toEqual(["nodes"]);
    await updateLatestLink(root, first.directory);
    await updateLatestLink(root, second.directory);
    expect(await readlink(join(root, "latest"))).toBe(join("kv-kill", "20251129T014818Z-2"));
    const out = await createResultsFolder({ root, name: "ignored", started, out: join(root, "custom") });
    expect(out.historyPath).toBe(join(root, "custom", "history.jsonl"));
  });

  it("writes summary.json with the stable fields and a self-contained report.html", async () => {
    const folder = await createResultsFolder({ root, name: "stale", started: new Date() });
    await writeFile(join(folder.nodeLogDirectory, "node-1.log"), "");
    const events = staleReadHistory();
    const composed = await runChecks({ events, plugin: kvPlugin, checkerTimeoutMs: 10_000, logDirectory: folder.nodeLogDirectory });
    const faults = (composed.checks["perf"] as PerfReport).faults;
    const summary: RunSummary = {
      name: "stale",
      seed: 12,
      runtime: "local",
      plugin: "kv",
      nodes: 3,
      started: "2025-11-29T01:48:18.123Z",
      duration_s: 0.03,
      valid: composed.valid,
      checks: composed.checks,
      ops: opsOf(composed.checks),
      faults,
      workload_file: "workloads/stale.yaml",
      unsafe: ["stale-reads"],
      final: { readsOk: 2, readsPlanned: 2, drained: undefined },
      exit_code: exitCodeFor(composed.valid),
    };
    await writeRunResults({ folder, summary, pairs: pairOperations(events), hasLinearizabilityReport: false });

    const written = JSON.parse(await readFile(folder.summaryPath, "utf8")) as Record<string, unknown>;
    expect(Object.keys(written)).toEqual(
      expect.arrayContaining(["name", "seed", "runtime", "plugin", "nodes", "started", "duration_s", "valid", "checks", "ops", "faults"]),
    );
    expect(written).toMatchObject({ valid: false, exit_code: 1, ops: { total: { invoked: 3, ok: 2, fail: 0, info: 1 } } });
    expect(Object.keys(written["checks"] as object)).toEqual(["linearizable", "stats", "perf", "node-logs"]);
    expect(written["faults"]).toEqual([{ f: "partition-leader", startS: 0.003, endS: 0.03, value: { isolated: [1] } }]);

    const html = await readFile(folder.reportPath, "utf8");
    expect(html).toMatch(/<span class="badge invalid" id="verdict">INVALID<\/span>/);
    expect(html).toMatch(/no order places <code>get &#34;a&#34; -&#62; null<\/code> \(history index 4\)/);
    // The timeline's data: the fault window with its kind, and the first anomaly's time.
    const timeline = JSON.parse(/<script type="application\/json" id="timeline-data">(.*?)<\/script>/s.exec(html)?.[1] ?? "null") as {
      faults: { kind: string; startS: number; endS: number }[];
      lanes: { label: string }[];
    };
    expect(timeline.faults).toMatchObject([{ kind: "partition-leader", startS: 0.003, endS: 0.03 }]);
    expect(timeline.lanes.map((lane) => lane.label)).toEqual(["p0 n2", "p1 n1", "p2"]);
    expect(html).toMatch(/<a href="nodes\/node-1\.log">/);
    // Self-contained: nothing is fetched from elsewhere.
    expect(html).not.toMatch(/<script [^>]*src=|<link |src="http|href="http/);
  });
});
