// Each fault of the catalogue on a real local cluster of stub nodes: what the nemesis says it did
// (its record) must be what the nodes experience, and heal must undo it. Leader-aimed faults,
// transfer-leader and membership need real Raft nodes: test/integration/local-runtime.test.ts.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SeededRng } from "../../lib/rng.js";
import { eventually, startStubCluster, type StubCluster } from "../runtime/testing/stub-cluster.js";
import { dockerNetworkCapabilities, netemMissingMessage, netemMissingReason } from "../runtime/docker/network.js";
import { ALL_NETWORK_FAULTS } from "../runtime/runtime.js";
import {
  createNemesis,
  injectedFaultNames,
  NEMESIS_NAMES,
  networkFaultsNeeded,
  unsupportedFaults,
  unsupportedFaultsMessage,
  type NemesisSpec,
} from "./catalogue.js";
import { PARTITION_NAMES } from "./partition.js";
import { createNemesisContext, NemesisError, type NemesisContext } from "./nemesis.js";

const nodeIds = [1, 2, 3, 4, 5];
let stub: StubCluster;
let context: NemesisContext;

beforeAll(async () => {
  stub = await startStubCluster("nemesis-test", nodeIds);
  context = createNemesisContext({ client: stub.client, rng: new SeededRng(7) });
  await everyoneHearsEveryone();
});

afterAll(async () => {
  await stub?.destroy();
});

async function everyoneHearsEveryone(): Promise<void> {
  for (const id of nodeIds) {
    await eventually(async () => (await stub.heardFrom(id)).length === nodeIds.length - 1, `node ${id} to hear all peers`);
  }
}

/** Who node `id` should hear under the grudge JSON of a record ({"1": [dropped...], ...}). */
function expectedHeard(grudge: Record<string, number[]>, id: number): number[] {
  const dropped = grudge[String(id)] ?? [];
  return nodeIds.filter((peer) => peer !== id && !dropped.includes(peer));
}

describe("partitions", () => {
  for (const name of PARTITION_NAMES.filter((partition) => partition !== "partition-leader")) {
    test(`${name}: nodes hear exactly what the recorded grudge allows; heal reconnects everyone`, async () => {
      const nemesis = createNemesis({ name } as NemesisSpec);
      const record = await nemesis.invoke(stub.cluster, context);
      expect(record.f).toBe(name);
      const grudge = (record.value as { grudge: Record<string, number[]> }).grudge;
      expect(Object.values(grudge).some((dropped) => dropped.length > 0)).toBe(true);
      for (const id of nodeIds) {
        const expected = expectedHeard(grudge, id);
        await eventually(async () => JSON.stringify(await stub.heardFrom(id)) === JSON.stringify(expected), `node ${id} to hear exactly ${expected.join(",")}`);
      }
      expect(await nemesis.heal(stub.cluster)).toEqual({ f: "heal", value: { fault: name, network: "healed" } });
      await everyoneHearsEveryone();
      expect(await nemesis.heal(stub.cluster)).toBeUndefined();
    });
  }

  test("partition-leader without a leader fails with NO_LEADER and changes nothing", async () => {
    const nemesis = createNemesis({ name: "partition-leader" });
    const error = await nemesis.invoke(stub.cluster, context).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NemesisError);
    expect(error).toMatchObject({ code: "NO_LEADER" });
    expect(await nemesis.heal(stub.cluster)).toBeUndefined();
  });
});

describe("degraded links", () => {
  test("loss 1.0 cuts every node off; heal restores", async () => {
    const nemesis = createNemesis({ name: "loss", probability: 1 });
    expect(await nemesis.invoke(stub.cluster, context)).toEqual({ f: "loss", value: { probability: 1, nodes: nodeIds } });
    for (const id of nodeIds) {
      await eventually(async () => (await stub.heardFrom(id)).length === 0, `node ${id} to hear nobody`);
    }
    await nemesis.heal(stub.cluster);
    await everyoneHearsEveryone();
  });

  test("latency keeps traffic flowing (delayed) and heals", async () => {
    const nemesis = createNemesis({ name: "latency", delayMs: 30, jitterMs: 10 });
    expect(await nemesis.invoke(stub.cluster, context)).toEqual({ f: "latency", value: { delayMs: 30, jitterMs: 10, nodes: nodeIds } });
    await everyoneHearsEveryone();
    await nemesis.heal(stub.cluster);
  });

  test("bandwidth caps every node's sending rate; traffic keeps flowing; heal lifts it", async () => {
    const nemesis = createNemesis({ name: "bandwidth", bitsPerSecond: 64_000 });
    expect(await nemesis.invoke(stub.cluster, context)).toEqual({ f: "bandwidth", value: { bitsPerSecond: 64_000, nodes: nodeIds } });
    await everyoneHearsEveryone();
    expect(await nemesis.heal(stub.cluster)).toEqual({ f: "heal", value: { fault: "bandwidth", network: "healed" } });
  });

  test("each fault is refused only when the capability it needs is not there", () => {
    const faults = ["kill", "latency", "loss", "latency", "bandwidth", "partition-one"];
    const noLatency = { ...ALL_NETWORK_FAULTS, latency: "no netem here" };
    expect(unsupportedFaults(faults, noLatency)).toEqual([{ fault: "latency", reason: "no netem here" }]);
    expect(unsupportedFaults(faults, ALL_NETWORK_FAULTS)).toEqual([]);
    expect(unsupportedFaults(faults, { block: "no iptables", loss: "no iptables" })).toEqual([
      { fault: "loss", reason: "no iptables" },
      { fault: "partition-one", reason: "no iptables" },
    ]);
    // A capability the runtime cannot tell yet refuses nothing (the cluster is asked later).
    expect(unsupportedFaults(faults, {})).toEqual([]);
    expect(networkFaultsNeeded(faults)).toEqual(["latency", "loss", "bandwidth", "block"]);
    expect(networkFaultsNeeded(["kill", "pause-leader", "membership", "transfer-leader"])).toEqual([]);
  });

  test("a compound fault is refused for the members it contains", () => {
    const names = injectedFaultNames([
      { name: "all", members: [{ name: "kill-leader" }, { name: "latency", delay: "50ms", jitter: "0ms" }], spacing: "0ms" },
      { name: "kill" },
    ]);
    expect(names).toEqual(["kill-leader", "latency", "kill"]);
    expect(unsupportedFaults(names, dockerNetworkCapabilities(false))).toEqual([{ fault: "latency", reason: netemMissingReason }]);
  });
});

describe("processes", () => {
  test("kill hits a random minority with SIGKILL; heal restarts it on the same data", async () => {
    const nemesis = createNemesis({ name: "kill" });
    const record = await nemesis.invoke(stub.cluster, context);
    const killed = (record.value as { nodes: number[] }).nodes;
    expect(killed.length).toBeGreaterThanOrEqual(1);
    expect(killed.length).toBeLessThanOrEqual(2);
    const bootsBefore = new Map<number, number>();
    for (const id of killed) {
      await expect(stub.client.status(id, { timeoutMs: 300 })).rejects.toThrow();
    }
    for (const id of nodeIds.filter((node) => !killed.includes(node))) {
      bootsBefore.set(id, await stub.boots(id));
    }
    expect(await nemesis.heal(stub.cluster)).toEqual({ f: "heal", value: { fault: "kill", nodes: killed, action: "restarted" } });
    for (const id of killed) {
      expect(await stub.boots(id)).toBeGreaterThanOrEqual(2);
    }
    await everyoneHearsEveryone();
  });

  test("pause stops a minority; heal resumes it", async () => {
    const nemesis = createNemesis({ name: "pause" });
    const paused = ((await nemesis.invoke(stub.cluster, context)).value as { nodes: number[] }).nodes;
    for (const id of paused) {
      await expect(stub.client.status(id, { timeoutMs: 300 })).rejects.toMatchObject({ code: "REQUEST_TIMEOUT" });
    }
    await nemesis.heal(stub.cluster);
    await everyoneHearsEveryone();
  });
});

test("every workload fault name has a nemesis", () => {
  for (const name of NEMESIS_NAMES) {
    const parameters: Partial<Record<string, object>> = {
      loss: { probability: 0.1 },
      latency: { delayMs: 1, jitterMs: 0 },
      bandwidth: { bitsPerSecond: 8_000 },
    };
    expect(createNemesis({ name, ...parameters[name] } as NemesisSpec).name).toBe(name);
  }
});

test("the partition nemesis covers exactly the schema's partition faults", () => {
  expect(PARTITION_NAMES).toEqual(NEMESIS_NAMES.filter((name) => name.startsWith("partition-")));
});

test("the refusal names the faults, the missing qdisc and the way out", () => {
  expect(unsupportedFaultsMessage("docker", unsupportedFaults(["latency", "kill"], dockerNetworkCapabilities(false)))).toBe(
    `the docker runtime cannot inject latency on this host: ${netemMissingMessage}. Use --runtime local (its proxies delay traffic in userland) or a host with netem.`,
  );
});
