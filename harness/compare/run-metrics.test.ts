// The per-run figures from a small hand-written history and node logs: availability by when an
// operation was invoked (outside faults, per fault kind), recovery after a heal for the cluster and
// each worker, leader changes inside and outside fault windows (the first election left out),
// snapshot sizes and node memory from the logs.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { ClientEvent, HistoryEvent, NemesisEvent } from "../../history/event.js";
import { checkPerf } from "../checks/perf.js";
import { pairOperations } from "../../history/operation-pairs.js";
import { checkStats } from "../checks/stats.js";
import type { RunSummary } from "../results/summary.js";
import { runMetrics } from "./run-metrics.js";

const s = 1e9;
let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "raftlab-metrics-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

test("availability, recovery, leader changes, snapshots and memory of one run", async () => {
  const raw: (Omit<ClientEvent, "index"> | Omit<NemesisEvent, "index">)[] = [
    // Two workers (processes 0 and 1). Outside faults: both ok.
    { process: 0, type: "invoke", f: "put", key: "a", value: 1, time: 0.5 * s },
    { process: 0, type: "ok", f: "put", key: "a", value: null, time: 0.6 * s },
    { process: 1, type: "invoke", f: "get", key: "a", value: null, time: 0.7 * s },
    { process: 1, type: "ok", f: "get", key: "a", value: 1, time: 0.8 * s },
    // A kill from 1 s to 3 s: process 0's put times out (info, it continues as process 2), process 1's get fails.
    { process: "nemesis", type: "invoke", f: "kill", value: null, time: 1 * s },
    { process: "nemesis", type: "info", f: "kill", value: { nodes: [1] }, time: 1.01 * s },
    { process: 0, type: "invoke", f: "put", key: "a", value: 2, time: 1.5 * s },
    { process: 1, type: "invoke", f: "get", key: "a", value: null, time: 1.6 * s },
    { process: 1, type: "fail", f: "get", key: "a", value: null, time: 1.7 * s },
    { process: 0, type: "info", f: "put", key: "a", value: 2, time: 2.5 * s },
    { process: 1, type: "invoke", f: "get", key: "a", value: null, time: 2.6 * s },
    { process: 1, type: "ok", f: "get", key: "a", value: 1, time: 2.7 * s },
    { process: "nemesis", type: "invoke", f: "heal", value: "kill", time: 3 * s },
    { process: "nemesis", type: "info", f: "heal", value: { fault: "kill" }, time: 3.1 * s },
    // After the heal: process 2 (worker 0) ok 200 ms later, worker 1 ok 50 ms later.
    { process: 1, type: "invoke", f: "get", key: "a", value: null, time: 3.12 * s },
    { process: 1, type: "ok", f: "get", key: "a", value: 2, time: 3.15 * s },
    { process: 2, type: "invoke", f: "put", key: "a", value: 3, time: 3.2 * s },
    { process: 2, type: "ok", f: "put", key: "a", value: null, time: 3.3 * s },
  ];
  const events = raw.map((event, index) => ({ ...event, index })) as HistoryEvent[];
  const pairs = pairOperations(events);
  const stats = checkStats(pairs);
  const started = Date.parse("2026-12-04T10:00:00.000Z");
  const summary = {
    history_started: new Date(started).toISOString(),
    checks: { perf: checkPerf(pairs, events), stats, linearizable: { valid: true, elapsedMs: 12 } },
    ops: { total: stats.total, byF: stats.byF },
  } as unknown as RunSummary;
  const at = (seconds: number): string => new Date(started + seconds * 1_000).toISOString();
  await writeFile(
    join(directory, "node-1.log"),
    [
      { time: at(0.2), level: "info", node: 1, msg: "role changed", role: "leader", leader: 1, term: 2 }, // the first election
      { time: at(0.9), level: "info", node: 1, msg: "memory", rssBytes: 50_000_000, heapUsedBytes: 1 },
      { time: at(3.5), level: "info", node: 1, msg: "took a snapshot and compacted the log", index: 10, bytes: 4_096, ms: 1 },
      { time: at(3.6), level: "info", node: 1, msg: "memory", rssBytes: 70_000_000, heapUsedBytes: 1 },
    ]
      .map((record) => JSON.stringify(record))
      .join("\n"),
  );
  await writeFile(
    join(directory, "node-2.log"),
    [
      { time: at(1.4), level: "info", node: 2, msg: "role changed", role: "leader", leader: 2, term: 3 }, // during the kill
      { time: at(3.4), level: "info", node: 2, msg: "role changed", role: "follower", leader: 3, term: 4 },
      { time: at(3.5), level: "info", node: 2, msg: "memory", rssBytes: 60_000_000, heapUsedBytes: 1 },
    ]
      .map((record) => JSON.stringify(record))
      .join("\n"),
  );
  await writeFile(join(directory, "node-3.log"), `${JSON.stringify({ time: at(3.4), level: "info", node: 3, msg: "role changed", role: "leader", leader: 3, term: 4 })}\nnot json\n`);

  const metrics = await runMetrics({ summary, events, concurrency: 2, logDirectory: directory });
  expect(metrics.availability).toEqual({ overall: 0.7143, outside_faults: 1, by_fault: { kill: 0.3333 } });
  expect(metrics.recovery).toEqual([{ fault: "kill", heal_s: 3.1, cluster_ms: 50, workers_ms: [200, 50], all_workers_ms: 200 }]);
  expect(metrics.recovery_cluster_ms_median).toBe(50);
  expect(metrics.leader_changes).toEqual({ total: 2, inside_faults: 1, outside_faults: 1, times_s: [1.4, 3.4] });
  expect([metrics.info_rate, metrics.fail_rate]).toEqual([0.1429, 0.1429]);
  expect(metrics.checker).toEqual({ elapsed_ms: 12, unknown: false });
  expect(metrics.snapshots).toEqual({ count: 1, max_bytes: 4_096 });
  expect(metrics.node_memory_bytes).toBe(70_000_000);
});
