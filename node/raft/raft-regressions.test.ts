// Regressions found by the review in issue 11, one test per defect, each failing before its fix.
import { describe, expect, test } from "vitest";
import { drain, entry, lone } from "./testing/lone-node.js";
import { newMessage } from "./raft.js";
import { bytes, TestNetwork } from "./testing/test-network.js";

describe("issue 11 regressions in the core", () => {
  // etcd raft.go restore(): "the follower already has the snapshot's entry: fast-forward commit and
  // answer with the commit index". Entries after the snapshot index may come from a deposed leader,
  // so answering with the last index would let the new leader count them as replicated here.
  test("a follower that already holds a snapshot's entry answers with its commit index, not its last index", () => {
    const follower = lone(2, [1, 2, 3], [entry(1, 1), entry(1, 2), entry(1, 3), entry(1, 4), entry(1, 5)], 1, 2);
    const snapshot = { metadata: { index: 3, term: 1, confState: { voters: [1, 2, 3] } }, data: new Uint8Array() };
    follower.step(newMessage("snap", 2, { from: 1, term: 2, snapshot }));
    const answer = drain(follower).find((m) => m.type === "appResp");
    expect(answer).toMatchObject({ to: 1, index: 3, reject: false });
    expect(follower.status().commit).toBe(3);
  });

  // etcd stepLeader MsgAppResp: `pr.MaybeUpdate(m.Index) || (pr.Match == m.Index && pr.State == StateProbe)`.
  test("a probing follower that acknowledges exactly its match goes back to replicate at once", () => {
    const net = new TestNetwork([1, 2, 3]);
    net.campaign(1);
    net.node(1).propose(bytes("x"));
    net.deliverAll();
    const leader = net.node(1);
    const match = leader.status().progress?.[2]?.match ?? 0;
    expect(match).toBe(leader.status().lastIndex);
    leader.reportUnreachable(2);
    expect(leader.status().progress?.[2]?.state).toBe("probe");
    leader.step(newMessage("appResp", 1, { from: 2, term: leader.status().term, index: match }));
    expect(leader.status().progress?.[2]?.state).toBe("replicate");
  });

  // Found by the figure-8 fault: a leader elected without committed entries probes below a
  // follower's commit index; answering with the commit index alone let it count the follower's
  // entries as its own and commit entries of its own at those indexes.
  test("a follower stops when a leader sends, at or below its commit index, an entry of another term", () => {
    const follower = lone(2, [1, 2, 3], [entry(1, 1), entry(2, 2), entry(2, 3)], 3, 3);
    follower.step(newMessage("app", 2, { from: 1, term: 3, index: 1, logTerm: 1, commit: 3, entries: [entry(2, 2)] }));
    expect(drain(follower).find((m) => m.type === "appResp")).toMatchObject({ index: 3, reject: false });
    expect(() => follower.step(newMessage("app", 2, { from: 3, term: 4, index: 1, logTerm: 1, commit: 1, entries: [entry(3, 2), entry(3, 3)] }))).toThrow(
      /follower: leader 3 sent index 2 at term 3, but this node committed it at term 2 \(Leader Completeness violated\)/,
    );
  });
});
