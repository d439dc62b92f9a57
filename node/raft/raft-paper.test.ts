// One test per claim of the Raft paper, on the bare core (etcd raft_paper_test.go style).
import { describe, expect, test } from "vitest";
import { drain, entry, lone } from "./testing/lone-node.js";
import { TestNetwork, bytes } from "./testing/test-network.js";
import { newMessage } from "./raft.js";
import { SeededRng } from "../../lib/rng.js";
import type { Entry } from "./messages.js";
import { encodeConfChange } from "./conf-change-codec.js";

describe("Raft paper claims", () => {
  // Reference: §5.1
  test("a node that sees a higher term adopts it and becomes a follower", () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    const leader = net.node(1);
    leader.step(newMessage("heartbeat", 1, { from: 2, term: 5 }));
    expect(leader.status()).toMatchObject({ term: 5, role: "follower", leader: 2 });
  });

  // Reference: §5.1
  test("a message from a stale term is rejected and does not change state", () => {
    const node = lone(1, [1, 2, 3], [], 3);
    node.step(newMessage("app", 1, { from: 2, term: 2, index: 0, logTerm: 0, entries: [entry(2, 1, "x")] }));
    expect(node.status()).toMatchObject({ term: 3, lastIndex: 0 });
  });

  // Reference: §5.2
  test("a candidate increments its term, votes for itself and asks every other voter", () => {
    const node = lone(1, [1, 2, 3]);
    node.campaign();
    expect(node.status()).toMatchObject({ term: 1, vote: 1, role: "candidate" });
    const requests = drain(node).filter((m) => m.type === "vote");
    expect(requests.map((m) => m.to).sort()).toEqual([2, 3]);
  });

  // Reference: §5.2
  test("a node grants at most one vote per term, first come first served", () => {
    const node = lone(1, [1, 2, 3]);
    node.step(newMessage("vote", 1, { from: 2, term: 1 }));
    node.step(newMessage("vote", 1, { from: 3, term: 1 }));
    const answers = drain(node).filter((m) => m.type === "voteResp");
    expect(answers.map((m) => [m.to, m.reject])).toEqual([
      [2, false],
      [3, true],
    ]);
  });

  // Reference: §5.2
  test("election timeouts are randomized in [electionTicks, 2 * electionTicks)", () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 50; seed++) {
      const node = lone(1, [1, 2, 3]);
      node.raft.config.rng = new SeededRng(seed);
      node.raft.resetRandomizedElectionTimeout();
      seen.add(node.raft.randomizedElectionTimeout);
    }
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...seen)).toBeLessThan(20);
    expect(seen.size).toBeGreaterThan(5);
  });

  // Reference: §5.4.1
  test("a vote is refused to a candidate whose log is less up-to-date", () => {
    const node = lone(1, [1, 2, 3], [entry(1, 1), entry(2, 2)], 2);
    node.step(newMessage("vote", 1, { from: 2, term: 3, index: 5, logTerm: 1 }));
    node.step(newMessage("vote", 1, { from: 3, term: 4, index: 2, logTerm: 2 }));
    const answers = drain(node).filter((m) => m.type === "voteResp");
    expect(answers.map((m) => [m.to, m.reject])).toEqual([
      [2, true],
      [3, false],
    ]);
  });

  // Reference: §5.3
  test("a follower refuses an append whose previous entry does not match and hints where to retry", () => {
    const node = lone(1, [1, 2, 3], [entry(1, 1), entry(1, 2), entry(2, 3)], 2);
    node.step(newMessage("app", 1, { from: 2, term: 3, index: 3, logTerm: 3, entries: [entry(3, 4)] }));
    const answer = drain(node).find((m) => m.type === "appResp");
    expect(answer).toMatchObject({ reject: true, index: 3, rejectHint: 3, hintTerm: 2 });
  });

  // Reference: §5.3
  test("a follower deletes a conflicting suffix and appends the leader's entries", () => {
    const node = lone(1, [1, 2, 3], [entry(1, 1), entry(1, 2), entry(2, 3)], 2);
    node.step(newMessage("app", 1, { from: 2, term: 3, index: 2, logTerm: 1, commit: 3, entries: [entry(3, 3, "new")] }));
    const ready = node.ready();
    expect(ready.entries.map((e) => `${e.term}/${e.index}`)).toEqual(["3/3"]);
    expect(ready.committedEntries.map((e) => e.index)).toEqual([1, 2, 3]);
  });

  // Reference: §5.4.2 (Figure 8)
  test("a leader never commits an entry of an older term by counting replicas", () => {
    // Node 1 holds an old-term entry at index 2 that node 2 also has; a majority holds it, but
    // it must not commit until an entry of the current term commits.
    const node = lone(1, [1, 2, 3], [entry(1, 1), entry(2, 2)], 3, 1);
    node.campaign();
    node.step(newMessage("voteResp", 1, { from: 2, term: 4 }));
    expect(node.status().role).toBe("leader");
    drain(node);
    node.step(newMessage("appResp", 1, { from: 2, term: 4, index: 2 }));
    expect(node.status().commit).toBe(1);
    node.step(newMessage("appResp", 1, { from: 2, term: 4, index: 3 }));
    expect(node.status().commit).toBe(3);
  });

  // Reference: §8
  test("a new leader appends an empty entry of its term at once", () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    const log = net.node(1).raft.log;
    expect(log.entryAt(1)).toMatchObject({ term: 1, index: 1 });
    expect(log.entryAt(1)?.data.length).toBe(0);
  });

  // Reference: §6 (etcd-style bootstrap, as node/server does it)
  test("a cluster bootstrapped from committed addNode entries learns its voters by applying them", () => {
    const net = new TestNetwork([]);
    const bootstrap: Entry[] = [1, 2, 3].map((nodeId, i) => ({
      term: 1,
      index: i + 1,
      type: "confChange",
      data: encodeConfChange({ type: "addNode", nodeId, context: new Uint8Array() }),
    }));
    for (const id of [1, 2, 3]) {
      net.add(id, { hardState: { term: 1, vote: 0, commit: 3 }, entries: bootstrap, confState: { voters: [] }, applied: 0 });
    }
    net.deliverAll();
    expect(net.node(2).status().voters).toEqual([1, 2, 3]);
    net.tickAll(40);
    expect(net.leaders()).toHaveLength(1);
    const leader = net.leaders()[0] as number;
    net.node(leader).propose(bytes("booted"));
    net.deliverAll();
    expect(net.appliedData(3)).toEqual(["booted"]);
  });
});
