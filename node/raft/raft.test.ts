import { describe, expect, test } from "vitest";
import { TestNetwork, bytes } from "./testing/test-network.js";
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

  test("the leader drops proposals beyond maxUncommittedEntryBytes and accepts again once they commit", () => {
    const net = new TestNetwork([1, 2, 3], { config: { maxUncommittedEntryBytes: 10 } });
    net.campaign(1);
    net.isolate(1);
    net.node(1).propose(bytes("12345"));
    net.node(1).propose(bytes("67890"));
    expect(() => net.node(1).propose(bytes("x"))).toThrow(ProposalDroppedError);
    net.deliverAll();
    net.heal();
    net.tickAll(2);
    expect(net.appliedData(1)).toEqual(["12345", "67890"]);
    expect(() => net.node(1).propose(bytes("x"))).not.toThrow();
  });

  test("app messages respect maxEntriesPerMessage and maxMessageBytes, and the inflight window bounds messages in flight", () => {
    const net = new TestNetwork([1, 2], { config: { maxEntriesPerMessage: 4, maxMessageBytes: 100, maxInflightMessages: 3 } });
    net.campaign(1);
    const leader = net.node(1);
    for (let i = 0; i < 20; i++) {
      leader.propose(new Uint8Array(30));
    }
    const ready = leader.ready();
    const apps = ready.messages.filter((m) => m.type === "app");
    expect(apps).toHaveLength(3);
    for (const app of apps) {
      expect(app.entries.length).toBeLessThanOrEqual(4);
      expect(app.entries.reduce((sum, e) => sum + e.data.length, 0)).toBeLessThanOrEqual(100);
    }
    leader.advance(ready);
    net.queue.push(...ready.messages);
    net.deliverAll();
    expect(leader.status().commit).toBe(21);
  });
});
