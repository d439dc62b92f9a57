import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../history/event.js";
import { pairOperations } from "../../history/operation-pairs.js";
import type { RunSummary } from "./summary.js";
import { buildTimelineData } from "./timeline-data.js";

describe("buildTimelineData", () => {
  // A 60 s Docker run of kv-snapshot-load (166,624 operations) ended in "Maximum call stack size
  // exceeded": the time span was taken with Math.max(...every operation's time).
  it("bins a run of 300,000 operations, and the span reaches the last completion", () => {
    const events: HistoryEvent[] = [];
    for (let op = 0; op < 300_000; op++) {
      const invokeNs = op * 200_000;
      events.push({ index: events.length, time: invokeNs, process: op % 16, type: "invoke", f: "put", key: "k", value: String(op) } as unknown as HistoryEvent);
      events.push({ index: events.length, time: invokeNs + 150_000, process: op % 16, type: "ok", f: "put", key: "k", value: null, node: "1" } as unknown as HistoryEvent);
    }
    const summary = { faults: [], first_anomaly_s: null, caught_by: null, explanation: null } as unknown as RunSummary;
    const timeline = buildTimelineData(summary, pairOperations(events), [], 10);
    expect(timeline.durationS).toBeCloseTo(60, 3);
    expect(timeline.ok.reduce((sum, count) => sum + count, 0)).toBe(300_000);
  });
});
