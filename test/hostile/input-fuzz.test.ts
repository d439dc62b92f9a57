// Seeded fuzzing of the two files users hand raftlab: workloads and histories. Whatever the bytes,
// the loaders either accept the input, with a plan every timer and client pool can honour, or throw
// their own error naming the file and line (exit 254 in the CLI); never anything else, which the
// CLI would report as a crash with a stack trace.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkOperations, UnpartitionableOperationError } from "../../checker/linearizable.js";
import { historyOperations } from "../../checker/operations.js";
import { HistoryError } from "../../history/history-error.js";
import { decodeUtf8, parseHistory } from "../../history/parse.js";
import { timerLimitMs } from "../../harness/workload/duration.js";
import { WorkloadFileError } from "../../harness/workload/errors.js";
import { parseWorkload } from "../../harness/workload/load.js";
import { planRun } from "../../harness/workload/plan.js";
import { concurrencyMax, faultMinimumNodes, singleFaultsOf } from "../../harness/workload/schema.js";
import { defaultWorkloadYaml } from "../../harness/workload/defaults.js";
import { kvPlugin } from "../../plugins/kv/index.js";
import { projectRoot } from "../support/run-cli.js";

const SEED = 1515;
const RUNS = 400;

const workloadsDirectory = join(projectRoot, "workloads");
const seeds = [
  defaultWorkloadYaml,
  ...readdirSync(workloadsDirectory)
    .filter((file) => file.endsWith(".yaml"))
    .map((file) => readFileSync(join(workloadsDirectory, file), "utf8")),
];

/** Values that broke, or nearly broke, a loader once: zero, overflow, wrong types, YAML tricks. */
const nastyScalars = [
  "0s",
  "0ms",
  "1000h",
  "600h",
  "2147483647ms",
  "2147483648ms",
  "-1s",
  "1e309",
  "NaN",
  ".inf",
  "-0",
  "0",
  "1",
  "9",
  "10",
  "1000",
  "1000n",
  "9999n",
  "0n",
  "2n",
  "null",
  "~",
  "''",
  '""',
  "[]",
  "{}",
  "[[[[[[]]]]]]",
  "*undefined_alias",
  "&a x",
  "!!binary AAAA",
  "!!js/function 'x'",
  '"\\xff"',
  "\u0000",
  "\uffff",
  "yes",
  "no",
  "partition-one",
  "membership",
  "{ all: [kill, partition-bridge] }",
  "{ loss: { probability: 2 } }",
  "kill-leader",
];

/** A seed workload with some lines' values replaced by nasty scalars, and maybe a random splice. */
const mutatedWorkloads = fc
  .record({
    seed: fc.constantFrom(...seeds),
    edits: fc.array(fc.record({ line: fc.nat(), value: fc.constantFrom(...nastyScalars) }), { minLength: 1, maxLength: 4 }),
    splice: fc.option(fc.record({ at: fc.nat(), text: fc.string({ unit: "binary", maxLength: 12 }) }), { nil: undefined }),
  })
  .map(({ seed, edits, splice }) => {
    const lines = seed.split("\n");
    for (const edit of edits) {
      const index = edit.line % lines.length;
      const line = lines[index] ?? "";
      const colon = line.indexOf(":");
      lines[index] = colon < 0 ? `${line} ${edit.value}` : `${line.slice(0, colon + 1)} ${edit.value}`;
    }
    let text = lines.join("\n");
    if (splice !== undefined) {
      const at = splice.at % (text.length + 1);
      text = text.slice(0, at) + splice.text + text.slice(at);
    }
    return text;
  });

describe("workload fuzzing", () => {
  it(`${RUNS} mutated workloads are each refused with a WorkloadFileError or planned within every bound (seed ${SEED})`, () => {
    let accepted = 0;
    fc.assert(
      fc.property(mutatedWorkloads, (text) => {
        try {
          const loaded = parseWorkload(text, "fuzz.yaml");
          const plan = planRun(loaded, loaded.spec, kvPlugin);
          accepted += 1;
          for (const milliseconds of [plan.durationMs, plan.clients.timeoutMs, plan.nemesis.intervalMs, plan.checkerTimeoutMs]) {
            expect(milliseconds).toBeGreaterThan(0);
            expect(milliseconds).toBeLessThanOrEqual(timerLimitMs);
          }
          expect(plan.recoveryMs).toBeLessThanOrEqual(timerLimitMs);
          expect(plan.clients.concurrency).toBeLessThanOrEqual(concurrencyMax);
          for (const fault of plan.nemesis.faults.flatMap(singleFaultsOf)) {
            expect(plan.nodes).toBeGreaterThanOrEqual(faultMinimumNodes[fault.name]);
          }
        } catch (error) {
          if (!(error instanceof WorkloadFileError)) {
            throw error;
          }
          expect(error.message).toMatch(/^fuzz\.yaml(:\d+)?: /);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // The mutations must leave some workloads valid, or this tests only the refusals.
    expect(accepted).toBeGreaterThan(RUNS / 40);
  });
});

/** Lines of a small valid kv history, then mutated: fields dropped, retyped, bytes spliced in. */
const validHistoryLines = [
  '{"index":0,"time":0,"type":"invoke","process":0,"f":"put","key":"a","value":"1"}',
  '{"index":1,"time":10,"type":"invoke","process":1,"f":"get","key":"a","value":null}',
  '{"index":2,"time":20,"type":"ok","process":0,"f":"put","key":"a","value":null}',
  '{"index":3,"time":30,"type":"ok","process":1,"f":"get","key":"a","value":"1"}',
  '{"index":4,"time":40,"process":"nemesis","type":"invoke","f":"kill","value":null}',
  '{"index":5,"time":50,"type":"invoke","process":2,"f":"cas","key":"b","value":[null,"2"]}',
  '{"index":6,"time":60,"type":"info","process":2,"f":"cas","key":"b","value":[null,"2"]}',
];
const nastyJson = [
  '"\\ud800"',
  "1e309",
  "-1",
  "1.5",
  "null",
  "[]",
  "{}",
  '"nemesis"',
  '"ok"',
  '"heal"',
  "9007199254740993",
  `${"[".repeat(300)}${"]".repeat(300)}`,
  "true",
];
const fieldNames = ["index", "time", "type", "process", "f", "key", "value", "error", "node", "extra"];

const mutatedHistories = fc
  .record({
    edits: fc.array(fc.record({ line: fc.nat(), field: fc.constantFrom(...fieldNames), value: fc.option(fc.constantFrom(...nastyJson), { nil: undefined }) }), {
      maxLength: 3,
    }),
    bytes: fc.option(fc.record({ at: fc.nat(), data: fc.uint8Array({ minLength: 1, maxLength: 4 }) }), { nil: undefined }),
    shuffle: fc.boolean(),
  })
  .map(({ edits, bytes, shuffle }) => {
    const lines = [...validHistoryLines];
    for (const edit of edits) {
      const index = edit.line % lines.length;
      const record = JSON.parse(lines[index]!) as Record<string, unknown>;
      const fields = Object.keys(record).filter((name) => name !== edit.field);
      // undefined: drop the field; else set it to the nasty value (as raw JSON text).
      const rebuilt = fields.map((name) => `${JSON.stringify(name)}:${JSON.stringify(record[name])}`);
      if (edit.value !== undefined) {
        rebuilt.push(`${JSON.stringify(edit.field)}:${edit.value}`);
      }
      lines[index] = `{${rebuilt.join(",")}}`;
    }
    if (shuffle) {
      lines.reverse();
    }
    let buffer = Buffer.from(`${lines.join("\n")}\n`, "utf8");
    if (bytes !== undefined) {
      const at = bytes.at % (buffer.length + 1);
      buffer = Buffer.concat([buffer.subarray(0, at), Buffer.from(bytes.data), buffer.subarray(at)]);
    }
    return buffer;
  });

describe("history fuzzing", () => {
  it(`${RUNS} mutated histories are each refused with a HistoryError naming the line, or checked (seed ${SEED})`, () => {
    let checked = 0;
    fc.assert(
      fc.property(mutatedHistories, (bytes) => {
        try {
          const history = parseHistory(decodeUtf8(bytes, "fuzz.jsonl"), "fuzz.jsonl");
          const { operations } = historyOperations(history.events);
          const result = checkOperations(kvPlugin.model, operations, { timeoutMs: 5_000 });
          expect(["ok", "illegal", "unknown"]).toContain(result.verdict);
          checked += 1;
        } catch (error) {
          if (error instanceof HistoryError) {
            expect(error.message).toMatch(/^fuzz\.jsonl(:\d+)?: /);
            return;
          }
          if (!(error instanceof UnpartitionableOperationError)) {
            throw error;
          }
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(checked).toBeGreaterThan(RUNS / 20);
  });
});
