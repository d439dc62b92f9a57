// The fault plan is a function of the seed and the nemesis settings only: two workloads that differ
// in plugin, operation mix and client shape get the same faults at the same times with the same
// per-step seeds, and a step's node choices do not depend on the steps before it.
import { expect, test } from "vitest";
import { counterPlugin } from "../../plugins/counter/index.js";
import { kvPlugin } from "../../plugins/kv/index.js";
import { queuePlugin } from "../../plugins/queue/index.js";
import { parseWorkload } from "../workload/load.js";
import { planRun } from "../workload/plan.js";
import { SeededRng } from "../../lib/rng.js";
import { planFaultSteps } from "./fault-plan.js";
import { randomMinority } from "./nemesis.js";

const workload = (plugin: string, extra: string): string => `name: plan-test
plugin: ${plugin}
seed: 7
duration: 30s
${extra}
nemesis:
  interval: 2s
  faults: [partition-halves, partition-one, kill, kill-leader, partition-random-halves]
`;

function stepsOf(plugin: string, extra: string, pluginObject: Parameters<typeof planRun>[2]): ReturnType<typeof planFaultSteps> {
  const loaded = parseWorkload(workload(plugin, extra), `${plugin}.yaml`);
  const plan = planRun(loaded, loaded.spec, pluginObject);
  return planFaultSteps({ seed: plan.seed, faultCount: plan.nemesis.faults.length, intervalMs: plan.nemesis.intervalMs, durationMs: plan.durationMs });
}

test("the fault plan does not depend on the plugin, its mix or the client shape", () => {
  const kv = stepsOf("kv", "clients: { mix: { get: 1, put: 1 }, concurrency: 3 }", kvPlugin);
  const counter = stepsOf("counter", "clients: { concurrency: 10, rate: 100 }", counterPlugin);
  const queue = stepsOf("queue", "", queuePlugin);
  expect(counter).toEqual(kv);
  expect(queue).toEqual(kv);
  // 30 s of 2 s quiet + 2 s fault: steps start at 2, 6, 10, ... 26 s.
  expect(kv.map((step) => step.startMs)).toEqual([2_000, 6_000, 10_000, 14_000, 18_000, 22_000, 26_000]);
  expect(kv.map((step) => step.healMs)).toEqual([4_000, 8_000, 12_000, 16_000, 20_000, 24_000, 28_000]);
  // Several faults are used, not one repeated.
  expect(new Set(kv.map((step) => step.fault)).size).toBeGreaterThan(2);
});

test("the plan changes with the seed, and each step's targets come from its own seed", () => {
  const options = { faultCount: 5, intervalMs: 1_000, durationMs: 60_000 };
  const first = planFaultSteps({ seed: 1, ...options });
  expect(planFaultSteps({ seed: 1, ...options })).toEqual(first);
  expect(planFaultSteps({ seed: 2, ...options })).not.toEqual(first);
  // Targets of a step depend on its seed only: drawing them in another order gives the same nodes.
  const nodeIds = [1, 2, 3, 4, 5];
  const forward = first.map((step) => randomMinority(new SeededRng(step.seed), nodeIds, "kill"));
  const backward = [...first]
    .reverse()
    .map((step) => randomMinority(new SeededRng(step.seed), nodeIds, "kill"))
    .reverse();
  expect(backward).toEqual(forward);
});

test("a fault in force at the end heals at the end; no fault list, no steps", () => {
  const steps = planFaultSteps({ seed: 3, faultCount: 2, intervalMs: 3_000, faultDurationMs: 5_000, durationMs: 10_000 });
  expect(steps.map(({ startMs, healMs }) => [startMs, healMs])).toEqual([[3_000, 8_000]]);
  expect(planFaultSteps({ seed: 3, faultCount: 0, intervalMs: 1_000, durationMs: 10_000 })).toEqual([]);
});
