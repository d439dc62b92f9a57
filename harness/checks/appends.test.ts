import { describe, expect, it } from "vitest";
import type { Json } from "../../plugins/api.js";
import { kvPlugin } from "../../plugins/kv/index.js";
import type { HistoryEvent } from "../../history/event.js";
import { pairOperations } from "../../history/operation-pairs.js";
import { checkAppends } from "./appends.js";
import { runChecks } from "./compose.js";
import { explainVerdict } from "./explain.js";

type Row = [process: number, type: "invoke" | "ok" | "fail" | "info", f: string, key: string, value: Json];

/** Events from rows, one millisecond apart, indexed in order. */
function history(rows: Row[]): HistoryEvent[] {
  return rows.map(([process, type, f, key, value], index) => ({ index, time: index * 1_000_000, process, type, f, key, value }));
}

describe("appends (exactly-once) check", () => {
  it("accepts reads made of appended tokens, each once, including indeterminate appends", () => {
    const report = checkAppends(
      pairOperations(
        history([
          [0, "invoke", "append", "x", "1 "],
          [0, "ok", "append", "x", null],
          [1, "invoke", "append", "x", "2 "],
          [1, "info", "append", "x", null],
          [0, "invoke", "get", "x", null],
          [0, "ok", "get", "x", "1 2 "],
          [0, "invoke", "get", "y", null],
          [0, "ok", "get", "y", null],
        ]),
      ),
    );
    expect(report).toMatchObject({ valid: true, keysChecked: 1, reads: 2, violationCount: 0 });
  });

  it("reports a token read twice (one append applied twice) and a token never appended", () => {
    const report = checkAppends(
      pairOperations(
        history([
          [0, "invoke", "append", "x", "1 "],
          [0, "ok", "append", "x", null],
          [1, "invoke", "get", "x", null],
          [1, "ok", "get", "x", "1 1 "],
          [1, "invoke", "get", "x", null],
          [1, "ok", "get", "x", "1 7 "],
        ]),
      ),
    );
    expect(report.valid).toBe(false);
    expect(report.violations).toEqual([
      { invokeIndex: 2, completionIndex: 3, process: 1, key: "x", kind: "duplicated", token: "1", count: 2 },
      { invokeIndex: 4, completionIndex: 5, process: 1, key: "x", kind: "unknown", token: "7", count: 1 },
    ]);
  });

  it("leaves out keys written otherwise than by unique appends, where a repeat can be legal", () => {
    const report = checkAppends(
      pairOperations(
        history([
          [0, "invoke", "put", "x", "1"],
          [0, "ok", "put", "x", null],
          [0, "invoke", "append", "y", "2 "],
          [0, "ok", "append", "y", null],
          [0, "invoke", "append", "y", "2 "], // the same token twice: not a run-wide unique token
          [0, "ok", "append", "y", null],
          [1, "invoke", "get", "x", null],
          [1, "ok", "get", "x", "1 1 "],
          [1, "invoke", "get", "y", null],
          [1, "ok", "get", "y", "2 2 "],
        ]),
      ),
    );
    expect(report).toMatchObject({ valid: true, keysChecked: 0, reads: 0 });
  });

  it("runs for kv and explains a duplicated append with its time, process and token", async () => {
    const events = history([
      [0, "invoke", "append", "x", "5 "],
      [0, "ok", "append", "x", null],
      [1, "invoke", "get", "x", null],
      [1, "ok", "get", "x", "5 5 "],
    ]);
    const composed = await runChecks({ events, plugin: kvPlugin, checkerTimeoutMs: 10_000 });
    expect(composed.checks["appends"]?.valid).toBe(false);
    expect(composed.valid).toBe(false);
    expect(composed.checks["linearizable"]?.valid).toBe(false);
    // Both checks catch it; the appends check says what happened, so it is the one explained.
    const appendsOnly = explainVerdict({ ...composed, events, plugin: kvPlugin });
    expect(appendsOnly).toEqual({
      check: "appends",
      firstAnomalyS: 0.002,
      text:
        'get "x" by process 1, invoked at 0.002 s and answered at 0.003 s, shows the appended token "5" 2 times, but it was appended once: ' +
        "one append was applied twice (a retry deduplicated by no one). No fault was injected during the run.",
    });
  });
});
