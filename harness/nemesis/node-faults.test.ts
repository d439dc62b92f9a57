import { describe, expect, it } from "vitest";
import type { RaftClient } from "../../node/client/raft-client.js";
import { SeededRng } from "../../lib/rng.js";
import { silentLogger } from "../../lib/logger.js";
import type { Cluster } from "../runtime/runtime.js";
import type { FaultTarget } from "../workload/schema.js";
import type { NemesisContext } from "./nemesis.js";
import { FailpointNemesis, PowerLossNemesis } from "./node-faults.js";

/** A five-node cluster led by node 3 that records what the nemesis did to it. */
function fakes(): { cluster: Cluster; context: NemesisContext; actions: string[] } {
  const actions: string[] = [];
  const cluster = {
    nodes: [1, 2, 3, 4, 5].map((id) => ({ id, clientAddress: `127.0.0.1:${7000 + id}` })),
    kill: async (id: number) => void actions.push(`kill ${id}`),
    start: async (id: number) => void actions.push(`start ${id}`),
  } as unknown as Cluster;
  const client = {
    failpoint: async (node: number, name: string, action: string) => void actions.push(`${name}=${action} on ${node}`),
  } as unknown as RaftClient;
  const context: NemesisContext = { rng: new SeededRng(7), leader: async () => 3, log: silentLogger, client };
  return { cluster, context, actions };
}

describe("node-local fault targets", () => {
  it("followers: every node but the leader, for power loss and failpoints alike", async () => {
    const { cluster, context, actions } = fakes();
    const power = new PowerLossNemesis("followers");
    expect((await power.invoke(cluster, context)).value).toMatchObject({ nodes: [1, 2, 4, 5], target: "followers" });
    expect(actions.sort()).toEqual(["kill 1", "kill 2", "kill 4", "kill 5"]);
    actions.length = 0;
    const stall = new FailpointNemesis("disk-stall", ["beforeFsync"], "sleep(300ms)", "followers");
    expect((await stall.invoke(cluster, context)).value).toMatchObject({ nodes: [1, 2, 4, 5] });
    expect(actions).toEqual([1, 2, 4, 5].map((id) => `beforeFsync=sleep(300ms) on ${id}`));
    await stall.heal(cluster);
    expect(actions.slice(4)).toEqual([1, 2, 4, 5].map((id) => `beforeFsync=off on ${id}`));
  });

  it.each<[FaultTarget, number[]]>([
    ["leader", [3]],
    ["all", [1, 2, 3, 4, 5]],
  ])("%s hits %j", async (target, nodes) => {
    const { cluster, context } = fakes();
    expect((await new PowerLossNemesis(target).invoke(cluster, context)).value).toMatchObject({ nodes });
  });
});
