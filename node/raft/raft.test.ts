import { describe, expect, test } from "vitest";
import { TestNetwork, bytes } from "./test-network.js";
import { ProposalDroppedError } from "./errors.js";

describe("raft core", () => {
  test("a campaign elects a leader and a proposal commits and applies on every node", () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    expect(net.leaders()).toEqual([1]);
    net.node(1).propose(bytes("x"));
    net.deliverAll();
    for (const id of [1, 2, 3]) {
      expect(net.appliedData(id)).toEqual(["x"]);
      expect(net.node(id).status().commit).toBe(2);
    }
  });

  test("ticks alone elect exactly one leader", () => {
    const net = new TestNetwork([1, 2, 3, 4, 5], { preVote: true, checkQuorum: true });
    net.tickAll(40);
    expect(net.leaders()).toHaveLength(1);
  });

  test("a follower forwards proposals to the leader", () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(2);
    net.node(3).propose(bytes("via-3"));
    net.deliverAll();
    expect(net.appliedData(1)).toEqual(["via-3"]);
  });

  test("a proposal with no known leader is dropped with PROPOSAL_DROPPED", () => {
    const net = new TestNetwork([1, 2, 3]);
    expect(() => net.node(1).propose(bytes("x"))).toThrow(ProposalDroppedError);
  });

  test("a minority cannot commit; the entry commits after the partition heals", () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.cut(1, 2);
    net.cut(1, 3);
    net.node(1).propose(bytes("lost?"));
    net.deliverAll();
    expect(net.node(1).status().commit).toBe(1);
    net.heal();
    net.tickAll(2);
    expect(net.appliedData(2)).toEqual(["lost?"]);
  });
});
