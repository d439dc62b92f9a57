import { describe, expect, it } from "vitest";
import type { RaftClient } from "../../node/client/raft-client.js";
import type { NodeStatus } from "../../node/protocol/client-protocol.js";
import { SeededRng } from "../../lib/rng.js";
import { silentLogger } from "../../lib/logger.js";
import type { Cluster } from "../runtime/runtime.js";
import type { NemesisContext } from "./nemesis.js";
import { DeposedLeaderNemesis } from "./deposed-leader.js";

const fast = { catchUpMs: 1, electionWaitMs: 100, holdMs: 50, pollMs: 1 };

/** Three nodes led by node 1; once a transfer was asked for, `roles` says who leads at each poll. */
function fakes(roles: (node: number, successor: number, polls: number) => NodeStatus["role"]) {
  const actions: string[] = [];
  let successor = 0;
  let polls = 0;
  const cluster = {
    nodes: [1, 2, 3].map((id) => ({ id, clientAddress: `127.0.0.1:${7000 + id}` })),
    network: {
      block: async (from: number, to: number) => void actions.push(`block ${from}->${to}`),
      heal: async () => void actions.push("heal network"),
    },
    start: async (id: number) => void actions.push(`start ${id}`),
  } as unknown as Cluster;
  const status = (nodeId: number, role: NodeStatus["role"]): NodeStatus => ({
    nodeId,
    role,
    term: role === "leader" && nodeId !== 1 ? 3 : 2,
    leader: role === "leader" ? nodeId : 0,
    commit: 10,
    applied: 10,
    lastIndex: 10,
    voters: [1, 2, 3],
    plugin: "kv",
  });
  const client = {
    failpoint: async (node: number, name: string, action: string) => {
      actions.push(`${name}=${action} on ${node}`);
    },
    transferLeader: async (to: number) => {
      successor = to;
      actions.push(`transfer to ${to}`);
      return new Promise(() => undefined); // never answered: the leader never hears the successor
    },
    status: async (node: number) => {
      if (successor === 0) {
        return status(node, node === 1 ? "leader" : "follower");
      }
      polls += 1;
      return status(node, roles(node, successor, polls));
    },
  } as unknown as RaftClient;
  const context: NemesisContext = { rng: new SeededRng(3), leader: async () => 1, log: silentLogger, client };
  return { cluster, context, actions };
}

describe("deposed-leader", () => {
  it("stops the leader's proposals, makes it deaf, hands over, and records how long both led", async () => {
    const { cluster, context, actions } = fakes((node, successor, polls) => (node === successor || (node === 1 && polls < 6) ? "leader" : "follower"));
    const nemesis = new DeposedLeaderNemesis(fast);
    const record = await nemesis.invoke(cluster, context);
    const value = record.value as { successor: number; steps: string[]; overlapMs: number };
    expect(value).toMatchObject({ leader: 1, successorTerm: 3, overlap: true });
    expect([2, 3]).toContain(value.successor);
    expect(value.overlapMs).toBeGreaterThanOrEqual(0);
    expect(value.steps.at(-1)).toMatch(/^1 stepped down after \d+ ms$/);
    // Proposals stop first, then the others' traffic to the leader (only that way), then the transfer.
    expect(actions[0]).toBe("beforePropose=error on 1");
    expect(actions.slice(1, 3).sort()).toEqual(["block 2->1", "block 3->1"]);
    expect(actions[3]).toBe(`transfer to ${value.successor}`);

    actions.length = 0;
    expect(await nemesis.heal(cluster)).toEqual({ f: "heal", value: { fault: "deposed-leader", network: "healed", failpoints: "off", restarted: [] } });
    expect(actions).toEqual(["heal network", "beforePropose=off on 1"]);
    expect(await nemesis.heal(cluster)).toBeUndefined();
  });

  it("says so when the successor is not elected, and when the old leader had already stepped down", async () => {
    const none = fakes(() => "follower");
    const first = await new DeposedLeaderNemesis(fast).invoke(none.cluster, none.context);
    expect((first.value as { steps: string[] }).steps.at(-1)).toMatch(/^[23] did not become leader within 100 ms$/);

    const late = fakes((node, successor) => (node === successor ? "leader" : "follower"));
    const second = await new DeposedLeaderNemesis(fast).invoke(late.cluster, late.context);
    expect(second.value).toMatchObject({ overlap: false });
    expect((second.value as { steps: string[] }).steps.at(-1)).toMatch(/^[23] leads term 3; 1 no longer leads$/);
  });

  it("restarts the old leader at heal when it no longer answers", async () => {
    const { cluster, context, actions } = fakes((node, successor) => (node === successor ? "leader" : "follower"));
    const nemesis = new DeposedLeaderNemesis(fast);
    await nemesis.invoke(cluster, context);
    (context.client as unknown as { failpoint: () => Promise<void> }).failpoint = async () => {
      throw new Error("connection refused");
    };
    actions.length = 0;
    expect((await nemesis.heal(cluster))?.value).toEqual({ fault: "deposed-leader", network: "healed", failpoints: "off", restarted: [1] });
    expect(actions).toEqual(["heal network", "start 1"]);
  });
});
