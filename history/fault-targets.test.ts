import { describe, expect, test } from "vitest";
import type { HistoryEvent } from "./event.js";
import { faultTargets, nemesisWindows } from "./fault-targets.js";

describe("faultTargets", () => {
  test("node faults name their nodes", () => {
    expect(faultTargets({ nodes: [2], action: "SIGKILL" })).toBe("node 2");
    expect(faultTargets({ nodes: [1, 3], action: "SIGSTOP" })).toBe("nodes 1, 3");
  });

  test("a partition names its sides from the grudge", () => {
    expect(faultTargets({ grudge: { "1": [3, 4, 5], "2": [3, 4, 5], "3": [1, 2], "4": [1, 2], "5": [1, 2] } })).toBe("1 2 | 3 4 5");
    // One node isolated: the others still hear each other.
    expect(faultTargets({ grudge: { "1": [2, 3], "2": [1], "3": [1] } })).toBe("1 | 2 3");
    // A bridge hears both sides, which do not hear each other (a real partition-bridge record).
    expect(faultTargets({ grudge: { "1": [3], "2": [], "3": [1] }, bridge: 2 })).toBe("1 | 3 bridged by 2");
  });

  test("overlapping partitions are named by the nemesis's details", () => {
    expect(faultTargets({ grudge: {}, ring: [3, 1, 2, 5, 4] })).toBe("ring 3-1-2-5-4");
    expect(faultTargets({ grudge: {}, outboundDropped: 4 })).toBe("outbound of node 4 dropped");
  });

  test("nothing to name gives an empty label", () => {
    expect(faultTargets(null)).toBe("");
    expect(faultTargets({ error: "no tc" })).toBe("");
  });
});

describe("nemesisWindows", () => {
  test("a window runs from its invoke to the completed heal, in event indexes and run time", () => {
    const events = [
      { process: "nemesis", type: "invoke", f: "kill", value: null, time: 1e9, index: 0 },
      { process: "nemesis", type: "info", f: "kill", value: { nodes: [2] }, time: 1.5e9, index: 1 },
      { process: 0, type: "invoke", f: "get", key: "a", value: null, time: 2e9, index: 2 },
      { process: "nemesis", type: "invoke", f: "heal", value: null, time: 3e9, index: 3 },
      { process: "nemesis", type: "info", f: "heal", value: null, time: 3.25e9, index: 4 },
      { process: "nemesis", type: "invoke", f: "partition-halves", value: null, time: 4e9, index: 5 },
      { process: 0, type: "ok", f: "get", key: "a", value: null, time: 5e9, index: 6 },
    ] as HistoryEvent[];
    expect(nemesisWindows(events)).toEqual([
      { f: "kill", targets: "node 2", startEvent: 0, endEvent: 4, startMs: 1000, endMs: 3250 },
      { f: "partition-halves", targets: "", startEvent: 5, endEvent: 7, startMs: 4000, endMs: 5000 },
    ]);
  });
});
