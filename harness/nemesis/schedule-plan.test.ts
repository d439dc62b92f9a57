// A planned schedule keeps each fault in force for its planned duration, counted from when its invoke
// returned: a fault that is slow to put in place (docker exec on a busy machine) is not healed at once.
import { expect, test } from "vitest";
import { SeededRng } from "../../lib/rng.js";
import { silentLogger } from "../../lib/logger.js";
import type { RaftClient } from "../../node/client/raft-client.js";
import type { Cluster } from "../runtime/runtime.js";
import type { Nemesis, NemesisContext } from "./nemesis.js";
import { NemesisSchedule } from "./schedule.js";

test("a slow invoke does not shorten the fault's time in force", async () => {
  const marks: Array<{ what: string; atMs: number }> = [];
  const startedMs = performance.now();
  const mark = (what: string): void => void marks.push({ what, atMs: performance.now() - startedMs });
  const slowFault: Nemesis = {
    name: "slow",
    invoke: async () => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      mark("in force");
      return { f: "slow", value: null };
    },
    heal: async () => {
      mark("healed");
      return { f: "heal", value: "slow" };
    },
  };
  const context: NemesisContext = { rng: new SeededRng(1), leader: async () => 1, log: silentLogger, client: {} as RaftClient };
  const stop = new AbortController();
  const schedule = new NemesisSchedule({ nodes: [] } as unknown as Cluster, context, {
    nemeses: [slowFault],
    intervalMs: 10,
    // Planned: inject at 10 ms, heal at 110 ms (100 ms in force).
    plan: [{ step: 0, fault: 0, startMs: 10, healMs: 110, seed: 7 }],
    onEvent: (event) => {
      if (event.type === "info" && event.f === "heal") {
        stop.abort();
      }
    },
  });
  await schedule.run(stop.signal);
  const inForce = marks.find((m) => m.what === "in force")!;
  const healed = marks.find((m) => m.what === "healed")!;
  expect(inForce.atMs).toBeGreaterThanOrEqual(150);
  // 100 ms in force after the invoke returned, not healed at the planned 110 ms.
  expect(healed.atMs - inForce.atMs).toBeGreaterThanOrEqual(99);
});
