import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Json } from "../../plugins/api.js";
import { counterPlugin } from "../../plugins/counter/index.js";
import { kvPlugin } from "../../plugins/kv/index.js";
import { queuePlugin } from "../../plugins/queue/index.js";
import type { ClientEvent, HistoryEvent, NemesisEvent } from "../../history/event.js";
import { mergeValidity } from "./check-report.js";
import { runChecks } from "./compose.js";
import { checkCounterBounds } from "./counter-bounds.js";
import { checkNemesis } from "./nemesis.js";
import { checkNodeLogs } from "./node-logs.js";
import { pairOperations } from "../../history/operation-pairs.js";
import { checkPerf } from "./perf.js";
import { checkQueue } from "./queue.js";
import { checkStats } from "./stats.js";

type Row = [process: number | "nemesis", type: HistoryEvent["type"], f: string, value: Json, key?: string];

/** Events from rows, one millisecond apart, indexed in order. */
function history(rows: Row[]): HistoryEvent[] {
  return rows.map(([process, type, f, value, key], index) => {
    const base = { index, time: index * 1_000_000, f, value };
    if (process === "nemesis") {
      return { ...base, process, type: type === "invoke" ? "invoke" : "info" };
    }
    return key === undefined ? { ...base, process, type } : { ...base, process, type, key };
  });
}

describe("counter bounds", () => {
  it("accepts reads between the sure and the possible sums", () => {
    const events = history([
      [0, "invoke", "add", 5],
      [0, "ok", "add", null],
      [1, "invoke", "add", 3], // info: may or may not have happened
      [1, "info", "add", 3],
      [2, "invoke", "add", 100], // failed: surely did not happen
      [2, "fail", "add", 100],
      [3, "invoke", "read", null],
      [3, "ok", "read", 8],
      [4, "invoke", "read", null],
      [4, "ok", "read", 5],
    ]);
    const report = checkCounterBounds(pairOperations(events), events);
    expect(report).toEqual({ valid: true, reads: 2, violationCount: 0, violations: [] });
  });

  it("detects a read below what surely happened and one above what possibly happened", () => {
    const events = history([
      [0, "invoke", "add", 5],
      [0, "ok", "add", null],
      [1, "invoke", "read", null],
      [2, "invoke", "add", 2], // concurrent with read 1: it may or may not be seen
      [1, "ok", "read", 7],
      [2, "ok", "add", null],
      [3, "invoke", "read", null],
      [3, "ok", "read", 4], // lost acknowledged writes
      [4, "invoke", "read", null],
      [4, "ok", "read", 8], // more than was ever added
    ]);
    const report = checkCounterBounds(pairOperations(events), events);
    expect(report.valid).toBe(false);
    expect(report.violations).toEqual([
      { index: 7, process: 3, value: 4, lower: 7, upper: 7 },
      { index: 9, process: 4, value: 8, lower: 7, upper: 7 },
    ]);
  });

  it("handles negative deltas in both bounds", () => {
    const events = history([
      [0, "invoke", "add", -4],
      [1, "invoke", "read", null],
      [1, "ok", "read", -4],
      [0, "info", "add", -4],
      [2, "invoke", "read", null],
      [2, "ok", "read", 0],
    ]);
    expect(checkCounterBounds(pairOperations(events), events).valid).toBe(true);
  });
});

describe("queue check", () => {
  const drainedHistory = (extra: Row[]): HistoryEvent[] =>
    history([
      [0, "invoke", "enqueue", 1],
      [0, "ok", "enqueue", null],
      [1, "invoke", "enqueue", 2],
      [1, "ok", "enqueue", null],
      [2, "invoke", "enqueue", 3],
      [2, "fail", "enqueue", 3],
      ...extra,
      [9, "invoke", "dequeue", null],
      [9, "ok", "dequeue", null],
    ]);

  it("accepts a history where every acknowledged value came out once", () => {
    const report = checkQueue(
      pairOperations(
        drainedHistory([
          [5, "invoke", "dequeue", null],
          [5, "ok", "dequeue", 1],
          [6, "invoke", "dequeue", null],
          [6, "ok", "dequeue", 2],
        ]),
      ),
    );
    expect(report).toMatchObject({ valid: true, drained: true, duplicated: [], unexpected: [], lost: [], possiblyLost: [] });
  });

  it("detects a value dequeued twice, one never enqueued, one whose enqueue failed, and a lost one", () => {
    const report = checkQueue(
      pairOperations(
        drainedHistory([
          [5, "invoke", "dequeue", null],
          [5, "ok", "dequeue", 1],
          [6, "invoke", "dequeue", null],
          [6, "ok", "dequeue", 1],
          [7, "invoke", "dequeue", null],
          [7, "ok", "dequeue", 42],
          [8, "invoke", "dequeue", null],
          [8, "ok", "dequeue", 3],
        ]),
      ),
    );
    expect(report).toMatchObject({ valid: false, duplicated: [1], unexpected: [42, 3], lost: [2] });
    expect(report.reason).toBe(
      "1 value(s) dequeued more than once; 2 dequeued value(s) never enqueued, or whose enqueue failed; " +
        "1 acknowledged value(s) lost: the queue was drained and only 0 dequeue(s) had an unknown outcome",
    );
  });

  it("does not call a value lost when a dequeue of unknown outcome may have taken it, or before a drain", () => {
    const explained = checkQueue(
      pairOperations(
        drainedHistory([
          [5, "invoke", "dequeue", null],
          [5, "info", "dequeue", null],
          [6, "invoke", "dequeue", null],
          [6, "ok", "dequeue", 1],
        ]),
      ),
    );
    expect(explained).toMatchObject({ valid: true, lost: [], possiblyLost: [2] });
    const undrained = history([
      [0, "invoke", "enqueue", 1],
      [0, "ok", "enqueue", null],
    ]);
    expect(checkQueue(pairOperations(undrained))).toMatchObject({ valid: "unknown", drained: false, possiblyLost: [1] });
  });
});

describe("stats and perf", () => {
  it("counts outcomes per f and calls a run without any ok invalid", () => {
    const events = history([
      [0, "invoke", "put", "1", "a"],
      [0, "fail", "put", "1", "a"],
      [1, "invoke", "get", null, "a"],
      [1, "info", "get", null, "a"],
      [2, "invoke", "get", null, "a"],
    ]);
    expect(checkStats(pairOperations(events))).toEqual({
      valid: false,
      total: { invoked: 3, ok: 0, fail: 1, info: 2 },
      byF: { put: { invoked: 1, ok: 0, fail: 1, info: 0 }, get: { invoked: 2, ok: 0, fail: 0, info: 2 } },
      reason: "no operation succeeded: the run tested nothing",
    });
  });

  it("calls a run in which one operation kind never succeeded invalid (Jepsen's stats rule)", () => {
    const events = history([
      [0, "invoke", "get", null, "a"],
      [0, "ok", "get", null, "a"],
      [1, "invoke", "put", "1", "a"],
      [1, "fail", "put", "1", "a"],
      [2, "invoke", "put", "2", "a"],
      [2, "info", "put", "2", "a"],
    ]);
    expect(checkStats(pairOperations(events))).toMatchObject({
      valid: false,
      reason: "no operation succeeded for put (2 invoked: 1 fail, 1 info)",
    });
    expect(checkStats(pairOperations(events.slice(0, 2))).valid).toBe(true);
  });

  it("computes latency percentiles, throughput per second and fault intervals", () => {
    const events: HistoryEvent[] = [];
    const push = (event: Omit<ClientEvent, "index"> | Omit<NemesisEvent, "index">): void => {
      events.push({ ...event, index: events.length } as HistoryEvent);
    };
    push({ process: "nemesis", type: "invoke", f: "partition-halves", value: null, time: 0 });
    push({ process: "nemesis", type: "info", f: "partition-halves", value: { cut: [[1], [2, 3]] }, time: 1e6 });
    for (let operation = 0; operation < 100; operation += 1) {
      const start = 2e6 + operation * 20e6;
      push({ process: 0, type: "invoke", f: "get", key: "1", value: null, time: start });
      push({ process: 0, type: "ok", f: "get", key: "1", value: null, time: start + (operation + 1) * 1e5 });
    }
    push({ process: "nemesis", type: "invoke", f: "heal", value: null, time: 1.5e9 });
    push({ process: "nemesis", type: "info", f: "heal", value: null, time: 1.6e9 });
    push({ process: "nemesis", type: "invoke", f: "kill", value: null, time: 1.7e9 });
    push({ process: "nemesis", type: "info", f: "kill", value: [2], time: 2.1e9 });
    const report = checkPerf(pairOperations(events), events);
    expect(report.latency["get"]).toEqual({ count: 100, p50Ms: 5.1, p95Ms: 9.6, p99Ms: 10, maxMs: 10 });
    expect(report.throughput).toEqual([
      { second: 0, ok: 50, fail: 0, info: 0 },
      { second: 1, ok: 50, fail: 0, info: 0 },
    ]);
    expect(report.faults).toEqual([
      { f: "partition-halves", startS: 0, endS: 1.6, value: { cut: [[1], [2, 3]] } },
      { f: "kill", startS: 1.7, endS: 2.1, value: [2] },
    ]);
  });
});

describe("nemesis", () => {
  const faultRows = (outcomes: [string, Json][]): HistoryEvent[] =>
    history(
      outcomes.flatMap(([f, value]): Row[] => [
        ["nemesis", "invoke", f, null],
        ["nemesis", "info", f, value],
        ["nemesis", "invoke", "heal", f],
        ["nemesis", "info", "heal", { fault: f, nothing: "to heal" }],
      ]),
    );

  it("is unknown, with the reason, when a fault was never injected or no fault ran at all", () => {
    const failed = { error: "CLUSTER_TOO_SMALL", message: "nemesis partition-one: a minority of one node is empty" };
    const report = checkNemesis(
      faultRows([
        ["partition-one", failed],
        ["kill", [2]],
        ["partition-one", failed],
      ]),
      2,
    );
    expect(report).toEqual({
      valid: "unknown",
      byFault: { "partition-one": { attempted: 2, failed: 2, firstError: failed.message }, kill: { attempted: 1, failed: 0 } },
      reason: `never injected: partition-one (2×: ${failed.message})`,
    });
    expect(checkNemesis([], 1)).toMatchObject({ valid: "unknown", reason: "no fault was injected: the run ended before the first nemesis interval passed" });
    expect(checkNemesis([], 0).valid).toBe(true);
  });

  it("does not count an injection cut off by the end of the run as an attempt", () => {
    const cancelled = { error: "NO_LEADER", message: "no node answered as leader within 5000 ms", cancelled: true };
    const report = checkNemesis(
      faultRows([
        ["kill", [1]],
        ["pause-leader", cancelled],
      ]),
      2,
    );
    expect(report).toEqual({
      valid: true,
      byFault: { kill: { attempted: 1, failed: 0 }, "pause-leader": { attempted: 0, failed: 0, cancelled: 1 } },
      reason: "cut off by the end of the run: pause-leader",
    });
    expect(checkNemesis(faultRows([["pause-leader", cancelled]]), 1)).toMatchObject({
      valid: "unknown",
      reason: "no fault was injected: the only injection was cut off by the end of the run",
    });
  });

  it("is valid when each fault got in at least once, listing the failures", () => {
    const report = checkNemesis(
      faultRows([
        ["kill-leader", { error: "NO_LEADER", message: "no leader" }],
        ["kill-leader", [1]],
      ]),
      1,
    );
    expect(report).toMatchObject({ valid: true, reason: "failed now and then: kill-leader 1 of 2" });
  });
});

describe("node logs", () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), "raftlab-node-logs-"));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("is valid for clean logs and reports error records and crashes with file and line", async () => {
    const record = (level: string, msg: string): string => JSON.stringify({ time: "2025-01-01T00:00:00.000Z", level, node: 1, msg });
    await writeFile(join(directory, "node-1.log"), [record("info", "became leader"), record("warn", "peer 2 unreachable"), ""].join("\n"));
    expect(await checkNodeLogs(directory)).toEqual({ valid: true, files: 1, lines: 2, counts: { error: 0, fatal: 0, crash: 0 }, findings: [] });
    await writeFile(
      join(directory, "node-2.log"),
      [
        record("info", "started"),
        record("error", "fatal error in the Ready loop; stopping"),
        "AssertionError [ERR_ASSERTION]: invariant: commit <= lastIndex",
        "    at RawNode.advance (file:///app/dist/node/raft/raw-node.js:120:9)",
        '{"time":"2025-01-01T00:00:0', // cut short by kill -9: not a finding
      ].join("\n"),
    );
    await writeFile(join(directory, "other.txt"), "Error: not a node log\n");
    const report = await checkNodeLogs(directory);
    expect(report.valid).toBe(false);
    expect(report.counts).toEqual({ error: 1, fatal: 0, crash: 2 });
    expect(report.findings.map(({ file, line, kind, message }) => [file, line, kind, message])).toEqual([
      ["node-2.log", 2, "error", "fatal error in the Ready loop; stopping"],
      ["node-2.log", 3, "crash", "AssertionError [ERR_ASSERTION]: invariant: commit <= lastIndex"],
    ]);
  });
});

describe("composition", () => {
  it("merges verdicts: false beats unknown beats true", () => {
    expect(mergeValidity([true, true])).toBe(true);
    expect(mergeValidity([true, "unknown"])).toBe("unknown");
    expect(mergeValidity(["unknown", false, true])).toBe(false);
  });

  it("runs linearizable, stats and perf for kv and finds a stale read", async () => {
    const events = history([
      [0, "invoke", "put", "1", "a"],
      [0, "ok", "put", null, "a"],
      [1, "invoke", "get", null, "a"],
      [1, "ok", "get", "1", "a"],
      [0, "invoke", "put", "2", "a"],
      [0, "ok", "put", null, "a"],
      [1, "invoke", "get", null, "a"],
      [1, "ok", "get", "1", "a"], // stale: "2" was acknowledged before this read began
    ]);
    const composed = await runChecks({ events, plugin: kvPlugin, checkerTimeoutMs: 10_000 });
    expect(Object.keys(composed.checks)).toEqual(["linearizable", "stats", "perf"]);
    expect(composed.valid).toBe(false);
    expect(composed.checks["linearizable"]).toMatchObject({
      valid: false,
      verdict: "illegal",
      // Found from the read-mapping, without a search: no linearizable prefix to show.
      anomaly: { key: "a", firstBadIndex: 6, prefixLength: 0 },
    });
    expect(composed.linearizability?.verdict).toBe("illegal");
    const fine = await runChecks({ events: events.slice(0, 6), plugin: kvPlugin, checkerTimeoutMs: 10_000 });
    expect(fine.valid).toBe(true);
  });

  it("adds counter-bounds for the counter and the queue check for the queue", async () => {
    const counter = await runChecks({
      events: history([
        [0, "invoke", "add", 2],
        [0, "ok", "add", null],
        [1, "invoke", "read", null],
        [1, "ok", "read", 3],
      ]),
      plugin: counterPlugin,
      checkerTimeoutMs: 10_000,
    });
    expect(Object.keys(counter.checks)).toEqual(["linearizable", "stats", "perf", "counter-bounds"]);
    expect([counter.valid, counter.checks["counter-bounds"]?.valid, counter.checks["linearizable"]?.valid]).toEqual([false, false, false]);
    const queue = await runChecks({
      events: history([
        [0, "invoke", "enqueue", 1],
        [0, "ok", "enqueue", null],
        [1, "invoke", "dequeue", null],
        [1, "ok", "dequeue", 1],
        [1, "invoke", "dequeue", null],
        [1, "ok", "dequeue", null],
      ]),
      plugin: queuePlugin,
      checkerTimeoutMs: 10_000,
    });
    expect(Object.keys(queue.checks)).toEqual(["linearizable", "stats", "perf", "queue"]);
    expect(queue.valid).toBe(true);
  });

  it("turns a check that crashes into unknown without losing the others", async () => {
    const composed = await runChecks({
      events: history([
        [0, "invoke", "get", null, "a"],
        [0, "ok", "get", null, "a"],
      ]),
      plugin: kvPlugin,
      logDirectory: "/nonexistent/raftlab-logs",
      checkerTimeoutMs: 10_000,
    });
    expect(composed.checks["node-logs"]).toMatchObject({ valid: "unknown", error: expect.stringMatching(/ENOENT/) as unknown });
    expect(composed.checks["linearizable"]?.valid).toBe(true);
    expect(composed.valid).toBe("unknown");
  });
});
