// The nemesis schedule on a real local cluster of stub nodes: faults alternate with heals, every step
// becomes a nemesis event, errors become info events, and stopping heals the active fault.
import { afterAll, beforeAll, expect, test } from "vitest";
import { SeededRng } from "../../lib/rng.js";
import { eventually, startStubCluster, type StubCluster } from "../runtime/testing/stub-cluster.js";
import { createNemesis } from "./catalogue.js";
import { NemesisSchedule, type NemesisScheduleEvent } from "./schedule.js";
import { createNemesisContext } from "./nemesis.js";

const nodeIds = [1, 2, 3];
let stub: StubCluster;

beforeAll(async () => {
  stub = await startStubCluster("schedule-test", nodeIds);
});

afterAll(async () => {
  await stub?.destroy();
});

async function everyoneHearsEveryone(): Promise<void> {
  for (const id of nodeIds) {
    await eventually(async () => (await stub.heardFrom(id)).length === nodeIds.length - 1, `node ${id} to hear all peers`);
  }
}

test("faults and heals alternate as invoke/info pairs; errors are recorded; stopping heals", async () => {
  await everyoneHearsEveryone();
  const events: NemesisScheduleEvent[] = [];
  const stop = new AbortController();
  const context = createNemesisContext({ client: stub.client, rng: new SeededRng(42) });
  const partitionOne = createNemesis({ name: "partition-one" });
  const schedule = new NemesisSchedule(stub.cluster, context, {
    nemeses: [partitionOne, createNemesis({ name: "partition-leader" }), createNemesis({ name: "pause" })],
    intervalMs: 50,
    faultDurationMs: 150,
    onEvent: (event) => {
      events.push(event);
      // Stop while the fifth fault is active: the schedule must still heal it.
      if (event.type === "info" && event.f !== "heal" && events.filter((e) => e.type === "invoke" && e.f !== "heal").length === 5) {
        stop.abort();
      }
    },
  });
  const summary = await schedule.run(stop.signal);

  expect(summary.faults).toBe(5);
  expect(events).toHaveLength(20);
  for (let step = 0; step < 5; step++) {
    const [invoke, injected, healInvoke, healed] = events.slice(step * 4, step * 4 + 4);
    expect(invoke).toMatchObject({ type: "invoke", value: null });
    expect(injected).toMatchObject({ type: "info", f: invoke!.f });
    expect(healInvoke).toEqual({ type: "invoke", f: "heal", value: invoke!.f });
    expect(healed).toMatchObject({ type: "info", f: "heal" });
    if (invoke!.f === "partition-leader") {
      // Stub nodes have no leader: the fault is reported, not thrown.
      expect(injected!.value).toMatchObject({ error: "NO_LEADER" });
      expect(healed!.value).toEqual({ fault: "partition-leader", nothing: "to heal" });
    }
  }
  expect(summary.errors).toBe(events.filter((event) => event.f === "partition-leader" && event.type === "info").length);
  await everyoneHearsEveryone();
  for (const id of nodeIds) {
    expect(await stub.boots(id)).toBe(1);
  }

  // healAll is a safety net: silent when nothing is left, recorded when a fault is still active.
  await schedule.healAll();
  expect(events).toHaveLength(20);
  await partitionOne.invoke(stub.cluster, context);
  await schedule.healAll();
  expect(events.slice(20)).toEqual([
    { type: "invoke", f: "heal", value: "partition-one" },
    { type: "info", f: "heal", value: { fault: "partition-one", network: "healed" } },
  ]);
  await everyoneHearsEveryone();
});

test("an injection cut off by the end of the main phase is recorded as cancelled, not as refused", async () => {
  const events: NemesisScheduleEvent[] = [];
  const stop = new AbortController();
  const context = createNemesisContext({ client: stub.client, rng: new SeededRng(7) });
  // Stub nodes never elect a leader: pause-leader waits for one until the main phase ends.
  const schedule = new NemesisSchedule(stub.cluster, context, {
    nemeses: [createNemesis({ name: "pause-leader" })],
    intervalMs: 10,
    onEvent: (event) => {
      events.push(event);
      if (event.type === "invoke" && event.f === "pause-leader") {
        setTimeout(() => stop.abort(), 300);
      }
    },
  });
  await schedule.run(stop.signal);
  const outcome = events.find((event) => event.type === "info" && event.f === "pause-leader");
  expect(outcome?.value).toMatchObject({ error: expect.any(String), cancelled: true });
  for (const id of nodeIds) {
    expect(await stub.boots(id)).toBe(1);
  }
});
