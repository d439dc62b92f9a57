import { describe, expect, it } from "vitest";
import type { RaftClient } from "../../node/client/raft-client.js";
import type { NodeStatus } from "../../node/protocol/client-protocol.js";
import { SeededRng } from "../../lib/rng.js";
import { silentLogger } from "../../lib/logger.js";
import type { Cluster } from "../runtime/runtime.js";
import type { NemesisContext } from "./nemesis.js";
import { FigureEightNemesis } from "./figure-eight.js";

const fast = { holdMs: 1, waitMs: 100, pollMs: 1 };

/**
 * Five nodes led by node 1. Each partition starts with a network heal, so the number of heals says
 * which step the scenario is in; `leaders` gives, per step, who answers as leader then.
 */
function fakes(leaders: (step: number, partner: number, others: number[]) => number | undefined, leaderLastIndex = 50) {
  const actions: string[] = [];
  let heals = 0;
  let partner = 0;
  let others: number[] = [];
  const cluster = {
    nodes: [1, 2, 3, 4, 5].map((id) => ({ id, clientAddress: `127.0.0.1:${7000 + id}` })),
    network: {
      block: async (from: number, to: number) => void actions.push(`block ${from}->${to}`),
      heal: async () => {
        heals += 1;
        actions.push("heal network");
      },
    },
    start: async (id: number) => void actions.push(`start ${id}`),
  } as unknown as Cluster;
  const status = (nodeId: number, role: NodeStatus["role"]): NodeStatus => ({
    nodeId,
    role,
    term: 2 + heals,
    leader: role === "leader" ? nodeId : 0,
    commit: 50,
    applied: 50,
    lastIndex: nodeId === 1 ? leaderLastIndex : 40,
    voters: [1, 2, 3, 4, 5],
    plugin: "kv",
  });
  const client = {
    failpoint: async (node: number, name: string, action: string) => {
      actions.push(`${name}=${action} on ${node}`);
      if (name === "beforeSendToFollower" && action === "error") {
        others = [...others, node];
        partner = [2, 3, 4, 5].find((id) => !others.includes(id)) ?? 0;
      }
    },
    status: async (node: number) => status(node, leaders(heals, partner, others) === node ? "leader" : "follower"),
  } as unknown as RaftClient;
  const context: NemesisContext = { rng: new SeededRng(5), leader: async () => 1, log: silentLogger, client };
  return { cluster, context, actions };
}

describe("figure-8", () => {
  it("walks the paper's sequence: A with B, a later leader E alone, A back without proposals, then E back", async () => {
    const { cluster, context, actions } = fakes((step, _partner, others) => (step === 2 ? others[1] : step === 4 ? 1 : step === 5 ? others[1] : undefined));
    const nemesis = new FigureEightNemesis(fast);
    const record = await nemesis.invoke(cluster, context);
    const value = record.value as Record<string, unknown> & { partner: number; others: number[]; steps: string[] };
    const e = value.others[1]!;
    expect(value).toMatchObject({ leader: 1, xLastIndex: 50, othersLastIndex: 40, laterLeader: e, returningLeader: 1, returningCommit: 50, finalLeader: e });
    expect(value.steps.at(-1)).toMatch(/the later-term leader is back over X/);
    // O's sends are dropped before the first partition; A and B refuse proposals before they rejoin.
    const firstHeal = actions.indexOf("heal network");
    expect(value.others.every((node) => actions.indexOf(`beforeSendToFollower=error on ${node}`) < firstHeal)).toBe(true);
    const propose = actions.indexOf(`beforePropose=error on ${value.partner}`);
    expect(propose).toBeGreaterThan(0);
    expect(actions.indexOf("heal network", propose)).toBeGreaterThan(propose);
    // Step 1 keeps A and B together: neither blocks the other.
    const step1 = actions.slice(firstHeal, actions.indexOf("heal network", firstHeal + 1));
    expect(step1).not.toContain(`block 1->${value.partner}`);
    expect(step1).toContain(`block 1->${e}`);

    // E can send again before it rejoins the others.
    const lastHeal = actions.lastIndexOf("heal network");
    expect(value.others.every((node) => actions.indexOf(`beforeSendToFollower=off on ${node}`) < lastHeal)).toBe(true);

    actions.length = 0;
    await nemesis.heal(cluster);
    expect(actions[0]).toBe("heal network");
    expect(actions.slice(1).sort()).toEqual(["beforePropose=off on 1", `beforePropose=off on ${value.partner}`, `beforePropose=off on ${e}`].sort());
    expect(await nemesis.heal(cluster)).toBeUndefined();
  });

  it("stops and says so when no later leader is elected; heal disarms what was armed", async () => {
    const { cluster, context, actions } = fakes(() => undefined);
    const nemesis = new FigureEightNemesis(fast);
    const record = await nemesis.invoke(cluster, context);
    expect((record.value as { steps: string[] }).steps.at(-1)).toMatch(/became leader within 100 ms; stopped here/);
    expect(actions.some((action) => action.startsWith("beforePropose"))).toBe(false);
    actions.length = 0;
    await nemesis.heal(cluster);
    expect(actions.filter((action) => action.endsWith("off on 1"))).toEqual([]);
    expect(actions.filter((action) => action.startsWith("beforeSendToFollower=off"))).toHaveLength(3);
  });

  it("stops after step 1 when the leader wrote nothing the others lack while it led", async () => {
    const { cluster, context, actions } = fakes((step) => (step === 1 ? 1 : undefined), 40);
    const nemesis = new FigureEightNemesis(fast);
    const record = await nemesis.invoke(cluster, context);
    const steps = (record.value as { steps: string[] }).steps;
    expect(steps).toHaveLength(2);
    expect(steps[1]).toMatch(/^1 wrote no entry beyond the others' logs while it led; stopped here$/);
    expect(actions.filter((action) => action === "heal network")).toHaveLength(1);
    actions.length = 0;
    await nemesis.heal(cluster);
    expect(actions.filter((action) => action.startsWith("beforeSendToFollower=off"))).toHaveLength(3);
  });

  it("refuses clusters other than five nodes", async () => {
    const { context } = fakes(() => undefined);
    const three = { nodes: [1, 2, 3].map((id) => ({ id, clientAddress: "" })) } as unknown as Cluster;
    await expect(new FigureEightNemesis(fast).invoke(three, context)).rejects.toThrow(/CLUSTER_SIZE: nemesis figure-8: scripted for exactly 5 nodes, got 3/);
  });
});
