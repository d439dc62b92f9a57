import { describe, expect, it } from "vitest";
import type { RaftClient } from "../../node/client/raft-client.js";
import type { NodeStatus } from "../../node/protocol/client-protocol.js";
import { SeededRng } from "../../lib/rng.js";
import { silentLogger } from "../../lib/logger.js";
import type { Cluster } from "../runtime/runtime.js";
import type { NemesisContext } from "./nemesis.js";
import { DoubleVoteNemesis } from "./double-vote.js";

const fast = { bystanderLagMs: 1, leadHoldMs: 1, electionWaitMs: 100, pollMs: 1 };

/**
 * Three nodes led by node 2. `leads` says, per node, which term it answers as leader after the
 * scripted step (the candidate once the transfer was asked for, the voter once restarted).
 */
function fakes(options: { candidateLeads?: number; secondLeads?: number; nodes?: number }) {
  const actions: string[] = [];
  const ids = Array.from({ length: options.nodes ?? 3 }, (_, index) => index + 1);
  let transferred = false;
  let restarted = false;
  const cluster = {
    nodes: ids.map((id) => ({ id, clientAddress: `127.0.0.1:${7000 + id}` })),
    network: {
      block: async (from: number, to: number) => void actions.push(`block ${from}->${to}`),
      heal: async () => void actions.push("heal network"),
    },
    kill: async (id: number) => void actions.push(`kill ${id}`),
    start: async (id: number) => {
      actions.push(`start ${id}`);
      restarted = true;
    },
  } as unknown as Cluster;
  const status = (nodeId: number, role: NodeStatus["role"], term: number): NodeStatus => ({
    nodeId,
    role,
    term,
    leader: role === "leader" ? nodeId : 0,
    commit: 10,
    applied: 10,
    lastIndex: 10,
    voters: ids,
    plugin: "kv",
  });
  const client = {
    failpoint: async (node: number, name: string, action: string) => void actions.push(`${name}=${action} on ${node}`),
    transferLeader: async (to: number) => {
      actions.push(`transfer to ${to}`);
      transferred = true;
      return { type: "ok", value: null };
    },
    status: async (node: number) => {
      if (transferred && !restarted && options.candidateLeads !== undefined && node !== 2) {
        return status(node, "leader", options.candidateLeads);
      }
      if (restarted && options.secondLeads !== undefined && node === 2) {
        return status(node, "leader", options.secondLeads);
      }
      return status(node, "follower", 2);
    },
  } as unknown as RaftClient;
  const context: NemesisContext = { rng: new SeededRng(3), leader: async () => 2, log: silentLogger, client };
  return { cluster, context, actions };
}

describe("double-vote", () => {
  it("plays the script in order and reports a term led twice when the restarted voter forgot its vote", async () => {
    const { cluster, context, actions } = fakes({ candidateLeads: 3, secondLeads: 3 });
    const nemesis = new DoubleVoteNemesis(fast);
    const record = await nemesis.invoke(cluster, context);
    const value = record.value as Record<string, unknown>;
    const { candidate, bystander } = value as { candidate: number; bystander: number };
    expect([candidate, bystander].sort()).toEqual([1, 3]);
    expect(value).toMatchObject({ voter: 2, candidateFirstTerm: 3, candidateLastTerm: 3, secondLeader: 2, secondTerm: 3, termReused: true });
    // The bystander is cut off first, the candidate's sends are dropped before the transfer, and
    // the voter dies only after the candidate is cut off too.
    const order = [
      `block 2->${bystander}`,
      `beforeSendToFollower=error on ${candidate}`,
      `transfer to ${candidate}`,
      "heal network",
      `block 2->${candidate}`,
      "kill 2",
      "start 2",
    ].map((action) => actions.indexOf(action));
    expect(order.every((position) => position >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));

    actions.length = 0;
    const heal = await nemesis.heal(cluster);
    expect(heal?.value).toMatchObject({ fault: "double-vote", restarted: [] });
    expect(actions).toEqual(["heal network", `beforeSendToFollower=off on ${candidate}`]);
    expect(await nemesis.heal(cluster)).toBeUndefined();
  });

  it("a voter that kept its vote leads a later term: no term reused", async () => {
    const { cluster, context } = fakes({ candidateLeads: 3, secondLeads: 4 });
    const record = await new DoubleVoteNemesis(fast).invoke(cluster, context);
    expect(record.value).toMatchObject({ secondTerm: 4, termReused: false });
  });

  it("stops and says so when the candidate never leads; heal still undoes the partition and the failpoint", async () => {
    const { cluster, context, actions } = fakes({});
    const nemesis = new DoubleVoteNemesis(fast);
    const record = await nemesis.invoke(cluster, context);
    const steps = (record.value as { steps: string[] }).steps;
    expect(steps.at(-1)).toMatch(/did not become leader within 100 ms; stopped here/);
    expect(actions).not.toContain("kill 2");
    actions.length = 0;
    await nemesis.heal(cluster);
    expect(actions).toEqual(["heal network", expect.stringMatching(/^beforeSendToFollower=off on [13]$/)]);
  });

  it("refuses clusters other than three nodes", async () => {
    const { cluster, context } = fakes({ nodes: 5 });
    await expect(new DoubleVoteNemesis(fast).invoke(cluster, context)).rejects.toThrow(
      /CLUSTER_SIZE: nemesis double-vote: scripted for exactly 3 nodes, got 5/,
    );
  });
});
