// The compound fault without a cluster: members are injected in order, healed in reverse, and a
// member that fails to inject still leaves the ones before it healed.
import { expect, test } from "vitest";
import type { Cluster } from "../runtime/runtime.js";
import { CompositeNemesis } from "./compound.js";
import type { FaultRecord, Nemesis, NemesisContext } from "./nemesis.js";

function recordingNemesis(name: string, calls: string[], options: { failInvoke?: boolean } = {}): Nemesis {
  let active = false;
  return {
    name,
    async invoke(): Promise<FaultRecord> {
      calls.push(`invoke ${name}`);
      if (options.failInvoke === true) {
        throw Object.assign(new Error(`${name} found no leader`), { code: "NO_LEADER" });
      }
      active = true;
      return { f: name, value: { target: name } };
    },
    async heal(): Promise<FaultRecord | undefined> {
      if (!active) {
        return undefined;
      }
      calls.push(`heal ${name}`);
      active = false;
      return { f: "heal", value: { fault: name } };
    },
  };
}

const cluster = {} as Cluster;
const context = {} as NemesisContext;

test("injects members in order, heals them in reverse, and records every member", async () => {
  const calls: string[] = [];
  const compound = new CompositeNemesis([recordingNemesis("partition-one", calls), recordingNemesis("kill-leader", calls)]);
  expect(compound.name).toBe("partition-one+kill-leader");
  expect(await compound.invoke(cluster, context)).toEqual({
    f: "partition-one+kill-leader",
    value: {
      members: [
        { f: "partition-one", value: { target: "partition-one" } },
        { f: "kill-leader", value: { target: "kill-leader" } },
      ],
    },
  });
  expect(await compound.heal(cluster)).toEqual({
    f: "heal",
    value: { fault: "partition-one+kill-leader", members: [{ fault: "kill-leader" }, { fault: "partition-one" }] },
  });
  expect(calls).toEqual(["invoke partition-one", "invoke kill-leader", "heal kill-leader", "heal partition-one"]);
  expect(await compound.heal(cluster)).toBeUndefined();
});

test("a member that fails to inject stops the rest, and heal undoes the ones injected", async () => {
  const calls: string[] = [];
  const compound = new CompositeNemesis([
    recordingNemesis("pause", calls),
    recordingNemesis("kill-leader", calls, { failInvoke: true }),
    recordingNemesis("loss", calls),
  ]);
  const failure = await compound.invoke(cluster, context).catch((error: unknown) => error);
  expect(failure).toMatchObject({ code: "NO_LEADER" });
  expect((failure as Error).message).toContain("kill-leader found no leader");
  expect(await compound.heal(cluster)).toEqual({ f: "heal", value: { fault: "pause+kill-leader+loss", members: [{ fault: "pause" }] } });
  expect(calls).toEqual(["invoke pause", "invoke kill-leader", "heal pause"]);
});

test("a failing heal does not stop the other members' heals", async () => {
  const calls: string[] = [];
  const broken: Nemesis = {
    ...recordingNemesis("partition-one", calls),
    heal: async () => {
      throw new Error("iptables failed");
    },
  };
  const compound = new CompositeNemesis([recordingNemesis("pause", calls), broken]);
  await compound.invoke(cluster, context);
  await expect(compound.heal(cluster)).rejects.toThrow("iptables failed");
  expect(calls).toContain("heal pause");
});

test("waits `spacing` between injecting one member and the next, so the first fault lasts alone a while", async () => {
  const calls: string[] = [];
  const stamps: number[] = [];
  const stamped = (name: string): Nemesis => {
    const inner = recordingNemesis(name, calls);
    return { ...inner, invoke: async (c, x, s) => (stamps.push(performance.now()), inner.invoke(c, x, s)) };
  };
  const compound = new CompositeNemesis([stamped("partition-random-halves"), stamped("kill-leader")], 150);
  await compound.invoke(cluster, context);
  expect(calls).toEqual(["invoke partition-random-halves", "invoke kill-leader"]);
  expect((stamps[1] as number) - (stamps[0] as number)).toBeGreaterThanOrEqual(145);
  const aborted = new AbortController();
  aborted.abort();
  const interrupted = new CompositeNemesis([stamped("partition-one"), stamped("kill")], 60_000);
  // An aborted schedule does not sit out the spacing: the second member is never injected.
  await expect(interrupted.invoke(cluster, context, aborted.signal)).rejects.toThrow();
  expect(calls).not.toContain("invoke kill");
});
