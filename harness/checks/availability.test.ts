import { describe, expect, test } from "vitest";
import type { HistoryEvent } from "../../history/event.js";
import { checkAvailability } from "./availability.js";
import { pairOperations } from "../../history/operation-pairs.js";

const ms = 1e6;

/** A client that completes one ok get at each time (ms), and a fault window. */
function run(okAtMs: number[], fault: [startMs: number, endMs: number]): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const push = (event: Omit<HistoryEvent, "index">): void => {
    events.push({ ...event, index: events.length } as HistoryEvent);
  };
  const timeline: [number, () => void][] = [];
  for (const at of okAtMs) {
    timeline.push([at - 1, () => push({ process: 0, type: "invoke", f: "get", value: null, time: (at - 1) * ms })]);
    timeline.push([at, () => push({ process: 0, type: "ok", f: "get", value: null, time: at * ms })]);
  }
  timeline.push([fault[0], () => push({ process: "nemesis", type: "invoke", f: "pause", value: null, time: fault[0] * ms })]);
  timeline.push([fault[1], () => push({ process: "nemesis", type: "info", f: "heal", value: null, time: fault[1] * ms })]);
  timeline.sort((left, right) => left[0] - right[0]).forEach(([, add]) => add());
  return events;
}

describe("availability", () => {
  test("splits the longest gap without an ok and the leader changes into inside and outside the fault windows", () => {
    // oks every 100 ms, a 700 ms hole during the fault (1000..2000) and a 400 ms hole after it.
    const events = run([100, 200, 300, 1000, 1700, 1800, 1900, 2000, 2400, 2500, 3000], [1100, 1650]);
    const report = checkAvailability(pairOperations(events), events, [
      { timeS: -0.5, node: 1, term: 2 }, // the first election: not a change
      { timeS: 1.2, node: 2, term: 3 },
      { timeS: 2.2, node: 3, term: 4 },
    ]);
    expect(report.leaderChanges).toEqual({ total: 2, insideFaults: 1, outsideFaults: 1, timesS: [1.2, 2.2] });
    expect(report.longestGapS).toEqual({ insideFaults: 0.7, outsideFaults: 0.7, insideAtS: 1, outsideAtS: 0.3 });
  });
});
