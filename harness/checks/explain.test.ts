import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../history/event.js";
import { kvPlugin } from "../../plugins/kv/index.js";
import { runChecks } from "./compose.js";
import { explainVerdict } from "./explain.js";

const s = 1e9;
function history(): HistoryEvent[] {
  const rows: Omit<HistoryEvent, "index">[] = [
    { process: 1, type: "invoke", f: "put", key: "x", value: "80", time: 12.1 * s },
    { process: 1, type: "ok", f: "put", key: "x", value: null, time: 12.21 * s, node: "1" },
    { process: "nemesis", type: "invoke", f: "partition-leader", value: null, time: 12.25 * s },
    { process: "nemesis", type: "info", f: "partition-leader", value: { nodes: [1] }, time: 12.26 * s },
    { process: 4, type: "invoke", f: "get", key: "x", value: null, time: 12.3 * s },
    { process: 4, type: "ok", f: "get", key: "x", value: "61", time: 12.31 * s, node: "3" },
    { process: "nemesis", type: "info", f: "heal", value: null, time: 13 * s },
  ] as Omit<HistoryEvent, "index">[];
  return rows.map((row, index) => ({ ...row, index }) as HistoryEvent);
}

describe("explainVerdict", () => {
  it("names the operation, its answer, the node, the write that completed before it and the fault in force", async () => {
    const events = history();
    const composed = await runChecks({ events, plugin: kvPlugin, checkerTimeoutMs: 10_000 });
    expect(composed.valid).toBe(false);
    const explanation = explainVerdict({ ...composed, events, plugin: kvPlugin });
    expect(explanation?.check).toBe("linearizable");
    expect(explanation?.firstAnomalyS).toBeCloseTo(12.3);
    expect(explanation?.text).toBe(
      'get "x" -> "61" by process 4, invoked at 12.300 s and answered at 12.310 s (node 3), cannot be placed in any order of the history ' +
        "consistent with real time. Every order must place before it what had completed when it was invoked; the latest writes among those " +
        'are put "x" "80" -> null by process 1 (node 1) (completed 12.210 s). ' +
        "No other operation on this key overlapped it. Faults in force then: partition-leader on node(s) 1 from 12.250 s to 13.000 s.",
    );
  });

  it("says what ran out for an unknown verdict and how to raise it", () => {
    const explanation = explainVerdict({
      checks: { linearizable: { valid: "unknown", reason: "timed out after 60012 ms" } as never },
      linearizability: undefined,
      events: [],
      plugin: kvPlugin,
      timeoutHint: "checker.timeout in the workload",
    });
    expect(explanation?.text).toBe(
      "The linearizable verdict is unknown: the search ran out of time (timed out after 60012 ms). Raise checker.timeout in the workload.",
    );
  });
});
