// Unit tests of the comparison's pure parts: seed lists, the matrix from flags and from a workload's
// compare: section (with errors naming the file, line and field), command-line overrides, the
// worker mapping behind per-worker recovery, the spread statements, and the differential replay.
import { describe, expect, test } from "vitest";
import type { ClientEvent } from "../../history/event.js";
import { setPlugin } from "../../plugins/examples/set-plugin.js";
import { kvPlugin } from "../../plugins/kv/index.js";
import type { Json, Operation, Plugin } from "../../plugins/api.js";
import { WorkloadFileError } from "../workload/errors.js";
import { parseWorkload } from "../workload/load.js";
import { applyOverrides } from "../workload/overrides.js";
import { comparedMetrics, differenceOf, statsOf } from "./aggregate.js";
import { resolveMatrix, slug } from "./compare-spec.js";
import { worstOf } from "./comparison.js";
import { differentialChecks, replayDifferential, sameOperations } from "./differential.js";
import { workerMapping } from "./run-metrics.js";
import { parseSeeds } from "./seeds.js";

const cwd = process.cwd();

describe("seeds", () => {
  test("a count, a list and a range", () => {
    expect(parseSeeds("3")).toEqual([1, 2, 3]);
    expect(parseSeeds("4,9,2")).toEqual([4, 9, 2]);
    expect(parseSeeds("5..8")).toEqual([5, 6, 7, 8]);
  });
  test("bad input says what was expected", () => {
    expect(() => parseSeeds("0")).toThrow("expected 1 to 1000 seeds, got 0");
    expect(() => parseSeeds("8..5")).toThrow('expected a range "first..last" with first <= last, got "8..5"');
    expect(() => parseSeeds("1,1")).toThrow('a seed is repeated in "1,1"');
    expect(() => parseSeeds("x")).toThrow('expected a seed count like "5", a list like "1,2,3" or a range like "1..20", got "x"');
  });
});

const sectionYaml = `name: cmp
duration: 5s
clients:
  concurrency: 4
  mix: { get: 1, put: 1 }
nemesis:
  interval: 1s
  faults: [partition-one]
compare:
  plugins: [kv, counter, ./plugins/examples/set-plugin.ts]
  seeds: [3, 4]
  faults:
    parts: [partition-halves]
    kills: [kill]
  mix:
    counter: { add: 1, read: 1 }
`;

describe("matrix", () => {
  test("plugins x fault sets x seeds from the compare: section, each cell with its own mix and the shared client shape", async () => {
    const loaded = parseWorkload(sectionYaml, "cmp.yaml");
    const matrix = await resolveMatrix(loaded, loaded.spec, {}, cwd);
    expect(matrix.cells.map((cell) => cell.id)).toEqual([
      "kv--parts--s3",
      "counter--parts--s3",
      "set-plugin--parts--s3",
      "kv--kills--s3",
      "counter--kills--s3",
      "set-plugin--kills--s3",
      "kv--parts--s4",
      "counter--parts--s4",
      "set-plugin--parts--s4",
      "kv--kills--s4",
      "counter--kills--s4",
      "set-plugin--kills--s4",
    ]);
    const mixes = Object.fromEntries(matrix.plugins.map((plugin) => [plugin.label, plugin.mix]));
    // kv keeps the workload's mix (its operations), counter takes compare.mix, the set plugin its default.
    expect(mixes).toEqual({ kv: { get: 1, put: 1 }, counter: { add: 1, read: 1 }, "./plugins/examples/set-plugin.ts": { add: 1, read: 1 } });
    for (const cell of matrix.cells) {
      expect(cell.plan.seed).toBe(cell.seed);
      expect(cell.plan.clients.concurrency).toBe(4);
      expect(cell.plan.nemesis.faults).toEqual([{ name: cell.faultSet.name === "parts" ? "partition-halves" : "kill" }]);
      expect(cell.spec).not.toHaveProperty("compare");
    }
  });

  test("flags win over the section; without either, the workload's plugin and fault list", async () => {
    const loaded = parseWorkload(sectionYaml, "cmp.yaml");
    const matrix = await resolveMatrix(loaded, loaded.spec, { plugins: "queue,kv", seeds: "2" }, cwd);
    expect(matrix.cells.map((cell) => cell.id)).toEqual([
      "queue--parts--s1",
      "kv--parts--s1",
      "queue--kills--s1",
      "kv--kills--s1",
      "queue--parts--s2",
      "kv--parts--s2",
      "queue--kills--s2",
      "kv--kills--s2",
    ]);
    const plain = parseWorkload("name: plain\nplugin: counter\nseed: 9\nnemesis: { faults: [kill] }\n", "plain.yaml");
    const single = await resolveMatrix(plain, plain.spec, {}, cwd);
    expect(single.cells.map((cell) => cell.id)).toEqual(["counter--workload--s9"]);
  });

  test("bad plugins, mixes and seeds are reported with the file, line and field or the flag", async () => {
    const bad = parseWorkload(sectionYaml.replace("counter: { add: 1, read: 1 }", "counter: { add: 1, pop: 1 }\n    nothing: { get: 1 }"), "bad.yaml");
    await expect(resolveMatrix(bad, bad.spec, {}, cwd)).rejects.toThrow(
      'bad.yaml:17: compare.mix.nothing: no plugin "nothing" in this comparison; plugins: kv, counter, ./plugins/examples/set-plugin.ts\n' +
        'bad.yaml:16: compare.mix.counter.pop: unknown operation "pop" for plugin counter; known: add, read',
    );
    const loaded = parseWorkload(sectionYaml, "cmp.yaml");
    await expect(resolveMatrix(loaded, loaded.spec, { plugins: "kv,nope" }, cwd)).rejects.toThrow(/^command line: --plugins: unknown plugin "nope"/);
    await expect(resolveMatrix(loaded, loaded.spec, { plugins: "kv,kv" }, cwd)).rejects.toThrow('command line: --plugins: plugin "kv" is listed twice');
    await expect(resolveMatrix(loaded, loaded.spec, { seeds: "1..x" }, cwd)).rejects.toBeInstanceOf(WorkloadFileError);
    expect(() => parseWorkload("name: x\ncompare:\n  seeds: 0\n", "zero.yaml")).toThrow("zero.yaml:3: compare.seeds");
  });

  test("two versions of one plugin with the same file name get distinct folders", () => {
    expect(slug("./v1/kv.ts")).toBe("kv");
    expect(slug("plugins/examples/set-plugin.ts")).toBe("set-plugin");
    expect(slug("kv")).toBe("kv");
  });
});

test("command-line overrides of plugin, nodes, concurrency and rate, with the flag named on errors", () => {
  const { spec } = parseWorkload("name: o\n", "o.yaml");
  const overridden = applyOverrides(spec, { plugin: "counter", nodes: "5", concurrency: "3n", rate: "250" });
  expect([overridden.plugin, overridden.nodes, overridden.clients.concurrency, overridden.clients.rate]).toEqual(["counter", 5, "3n", 250]);
  expect(applyOverrides(spec, { concurrency: "7" }).clients.concurrency).toBe(7);
  expect(() => applyOverrides(spec, { nodes: "12", concurrency: "0", rate: "fast" })).toThrow(
    /^command line: --nodes: .*\(got "12"\)\ncommand line: --concurrency: .*\(got "0"\)\ncommand line: --rate: .*\(got "fast"\)$/,
  );
});

test("workers keep their identity across the new process ids taken after an info", () => {
  const event = (process: number, type: ClientEvent["type"], index: number): ClientEvent => ({
    process,
    type,
    f: "get",
    key: "0",
    value: null,
    time: index,
    index,
  });
  // Two workers (0, 1). Worker 1's op ends in info: it continues as process 2. Then process 0 ends
  // in info (-> 3), then process 2 again (-> 4).
  const events = [
    event(0, "invoke", 0),
    event(1, "invoke", 1),
    event(1, "info", 2),
    event(2, "invoke", 3),
    event(0, "info", 4),
    event(3, "invoke", 5),
    event(2, "info", 6),
    event(4, "invoke", 7),
  ];
  const workerOf = workerMapping(events, 2);
  expect([0, 1, 2, 3, 4].map(workerOf)).toEqual([0, 1, 1, 0, 1]);
});

describe("spread", () => {
  const throughput = comparedMetrics.find((metric) => metric.key === "throughput_ops_per_s")!;
  test("a gap larger than the spread over seeds is called a result, a gap within it is not", () => {
    const clear = differenceOf(
      "f",
      throughput,
      { label: "kv", values: [1000, 1020, 990, 1010, 1005] },
      { label: "counter", values: [700, 720, 690, 710, 705] },
    );
    expect(clear.exceeds_spread).toBe(true);
    expect(clear.statement).toMatch(
      /^counter's throughput \(median 705 ops\/s\) is 30% lower than kv's \(1005\); the 95% bootstrap interval of the difference over 5 seeds, \[-\d+, -\d+\], excludes 0: larger than the run-to-run spread\.$/,
    );
    const noisy = differenceOf("f", throughput, { label: "kv", values: [1000, 600, 1400, 800] }, { label: "counter", values: [900, 1300, 700, 1100] });
    expect(noisy.exceeds_spread).toBe(false);
    expect(noisy.statement).toMatch(/includes 0: within run-to-run spread, not a result\.$/);
    const single = differenceOf("f", throughput, { label: "kv", values: [1000] }, { label: "counter", values: [700] });
    expect(single.exceeds_spread).toBeNull();
    expect(single.statement).toMatch(/one seed per plugin gives no run-to-run spread: run at least 3 before reading this as a result\.$/);
    const checker = comparedMetrics.find((metric) => metric.key === "checker_ms")!;
    const large = differenceOf("f", checker, { label: "kv", values: [90, 95, 100] }, { label: "queue", values: [6000, 6684, 7000] });
    expect(large.statement).toMatch(/^queue's checker time \(median 6684 ms\) is 70\.4 times kv's \(95\);/);
    const two = differenceOf("f", throughput, { label: "kv", values: [1000, 1010] }, { label: "counter", values: [700, 710] });
    expect([two.exceeds_spread, two.ci_low]).toEqual([null, null]);
    expect(two.statement).toMatch(/2 seeds are too few to tell it from run-to-run spread/);
  });
  test("median and range ignore missing values; the interval is reproducible", () => {
    const stats = statsOf([3, null, 1, 2]);
    expect([stats.n, stats.median, stats.min, stats.max]).toEqual([3, 2, 1, 3]);
    expect(statsOf([3, null, 1, 2])).toEqual(stats);
  });
  test("the worst cell decides the exit code: invalid, then crashed, then unknown", () => {
    expect(worstOf(["valid", "unknown", "crashed", "invalid"])).toEqual({ worst: "invalid", exitCode: 1 });
    expect(worstOf(["valid", "unknown", "crashed"])).toEqual({ worst: "crashed", exitCode: 255 });
    expect(worstOf(["valid", "unknown"])).toEqual({ worst: "unknown", exitCode: 2 });
    expect(worstOf(["valid"])).toEqual({ worst: "valid", exitCode: 0 });
  });
});

describe("differential", () => {
  /** The set plugin with a bug: a member added a second time is reported twice by read. */
  const buggySet: Plugin = {
    ...(setPlugin as Plugin),
    createStateMachine: () => {
      const members: string[] = [];
      return {
        apply: (operation: Operation): Json => {
          if (operation.f === "add") {
            members.push(String(operation.value));
            return null;
          }
          return [...members].sort();
        },
        snapshot: () => new Uint8Array(),
        restore: () => undefined,
      };
    },
  };

  test("two versions of one plugin: the first operation whose results differ, with both results", () => {
    const report = replayDifferential(
      { label: "set", plugin: setPlugin as Plugin },
      { label: "buggy", plugin: buggySet },
      { seed: 1, operations: 10_000, keys: 1, mix: { add: 1, read: 1 } },
    );
    expect(report.agree).toBe(false);
    const difference = report.first_difference!;
    expect(difference.operation.f).toBe("read");
    const [correct, buggy] = [difference.result_a as string[], difference.result_b as string[]];
    expect(buggy.length).toBeGreaterThan(correct.length);
    expect([...new Set(buggy)]).toEqual(correct);
    expect(report.operations).toBe(difference.index + 1);
  });

  test("identical plugins agree; plugins with other operations are not paired", () => {
    expect(
      replayDifferential(
        { label: "a", plugin: setPlugin as Plugin },
        { label: "b", plugin: setPlugin as Plugin },
        { seed: 2, operations: 2_000, keys: 1, mix: { add: 1, read: 1 } },
      ),
    ).toMatchObject({ agree: true, operations: 2_000, first_difference: null });
    expect(sameOperations(kvPlugin as Plugin, setPlugin as Plugin)).toBe(false);
    const reports = differentialChecks(
      [
        { label: "kv", plugin: kvPlugin as Plugin, mix: { get: 1 } },
        { label: "set", plugin: setPlugin as Plugin, mix: { add: 1, read: 1 } },
        { label: "buggy", plugin: buggySet, mix: { add: 1, read: 1 } },
      ],
      { seed: 1, operations: 1_000, keys: 1 },
    );
    expect(reports.map((report) => [report.a, report.b, report.agree])).toEqual([["set", "buggy", false]]);
  });
});
