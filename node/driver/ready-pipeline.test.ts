// The Ready pipeline over memory ports, on fixed schedules (each disk completion chosen by the test).
import { describe, expect, test } from "vitest";
import { newMessage } from "../raft/raft.js";
import type { Entry } from "../raft/messages.js";
import { MemoryNode, SlicedCountingState } from "./memory-node.js";

function entries(term: number, from: number, to: number): Entry[] {
  const list: Entry[] = [];
  for (let index = from; index <= to; index++) {
    list.push({ term, index, type: "normal", data: new TextEncoder().encode(`e${index}`) });
  }
  return list;
}

/** Node 1 campaigns and wins with node 2's vote, every write completed; returns its term. */
function electLeader(node: MemoryNode): number {
  node.rawNode.campaign();
  node.pipeline.kick();
  node.settle();
  const [vote] = node.take("vote").filter((message) => message.to === 2);
  expect(vote).toBeDefined();
  node.step(newMessage("voteResp", 1, { from: 2, term: vote!.term }));
  node.settle();
  expect(node.rawNode.status().role).toBe("leader");
  return vote!.term;
}

/** A leader whose followers both acknowledged its first entry, so both are in replicate state. */
function electReplicatingLeader(node: MemoryNode): number {
  const term = electLeader(node);
  const first = node.rawNode.status().lastIndex;
  node.step(newMessage("appResp", 1, { from: 2, term, index: first }));
  node.step(newMessage("appResp", 1, { from: 3, term, index: first }));
  node.settle();
  return term;
}

describe("ReadyPipeline on a follower", () => {
  // Issue 11, defect 1: a follower took its own periodic snapshot while a snapshot from the leader
  // was being saved, and stopped on "markSnapshot: index A is below the current snapshot S".
  test("a local snapshot that a leader's snapshot overtakes is abandoned, not written below it", () => {
    const node = new MemoryNode({ id: 2, voters: [1, 2, 3], snapshotEvery: 3 });
    node.step(newMessage("app", 2, { from: 1, term: 1, index: 0, logTerm: 0, commit: 0, entries: entries(1, 1, 5) }));
    node.settle();
    node.step(newMessage("heartbeat", 2, { from: 1, term: 1, commit: 5 }));
    node.run(); // applies 1..5 (commit only: no write), so the local snapshot at 5 starts: its save is held
    expect(node.state.applied).toBe(5);
    expect(node.disk.queues.snapshot).toHaveLength(1);
    const snapshot = { metadata: { index: 10, term: 1, confState: { voters: [1, 2, 3] } }, data: new TextEncoder().encode("10") };
    node.step(newMessage("snap", 2, { from: 1, term: 1, snapshot }));
    node.run(); // takes the Ready with the leader's snapshot: its save is queued too
    expect(node.disk.queues.snapshot).toHaveLength(2);
    node.disk.completeAt("snapshot", 1); // the leader's snapshot file is written first, its marker follows
    node.settle(); // then the local one's
    expect(node.fatal).toEqual([]);
    expect(node.state.installed).toEqual([10]);
    expect(node.log.snapshotIndex).toBe(10);
    expect(node.rawNode.status().commit).toBe(10);
    // The shutdown log line counts what happened: no local snapshot taken, one abandoned.
    expect(node.pipeline.counters).toMatchObject({ localSnapshots: 0, localSnapshotsAbandoned: 1 });
  });

  test("local snapshots taken are counted for the shutdown log line", () => {
    const node = new MemoryNode({ id: 2, voters: [1, 2, 3], snapshotEvery: 3 });
    node.step(newMessage("app", 2, { from: 1, term: 1, index: 0, logTerm: 0, commit: 0, entries: entries(1, 1, 7) }));
    node.settle();
    node.step(newMessage("heartbeat", 2, { from: 1, term: 1, commit: 3 }));
    node.settle();
    node.step(newMessage("heartbeat", 2, { from: 1, term: 1, commit: 7 }));
    node.settle();
    expect(node.fatal).toEqual([]);
    expect(node.log.snapshotIndex).toBe(7);
    expect(node.pipeline.counters).toMatchObject({ localSnapshots: 2, localSnapshotsAbandoned: 0 });
  });
});

// Each unsafe switch of the pipeline really changes what it names, on one fixed schedule: the same
// follower step with the switch off and on (the core's switches are node/sim/scenarios/unsafe-switches.test.ts).
describe("the pipeline's unsafe switches", () => {
  const append = newMessage("app", 2, { from: 1, term: 1, index: 0, logTerm: 0, commit: 0, entries: entries(1, 1, 3) });

  test("ack-before-fsync: a follower acknowledges appended entries once written, before any fsync", () => {
    for (const ackBeforeFsync of [false, true]) {
      const node = new MemoryNode({ id: 2, voters: [1, 2, 3], unsafe: { ackBeforeFsync } });
      node.step(append);
      node.run();
      node.disk.completeNext("log"); // the write of entries 1..3 completes; the fsync (if any) is still queued
      node.run();
      expect(node.log.stats.syncs).toBe(ackBeforeFsync ? 0 : 1);
      expect(node.take("appResp").map((message) => message.index)).toEqual(ackBeforeFsync ? [3] : []);
      node.settle();
      expect(node.take("appResp").map((message) => message.index)).toEqual(ackBeforeFsync ? [] : [3]);
    }
  });

  test("vote-not-persisted: a vote leaves before term and vote are written", () => {
    for (const voteNotPersisted of [false, true]) {
      const node = new MemoryNode({ id: 2, voters: [1, 2, 3], unsafe: { voteNotPersisted } });
      node.step(newMessage("vote", 2, { from: 3, term: 5, index: 0, logTerm: 0 }));
      node.run(); // no disk operation completes
      expect(node.take("voteResp").map((message) => [message.term, message.reject])).toEqual(voteNotPersisted ? [[5, false]] : []);
      expect(node.disk.queues.log).toHaveLength(voteNotPersisted ? 0 : 2); // safe: the hard state write and its fsync
      node.settle();
      expect(node.take("voteResp")).toHaveLength(voteNotPersisted ? 0 : 1);
    }
  });

  test("apply-uncommitted: a follower applies entries once durable, before the leader's commit index covers them", () => {
    for (const applyUncommitted of [false, true]) {
      const node = new MemoryNode({ id: 2, voters: [1, 2, 3], unsafe: { applyUncommitted } });
      node.step(append); // commit 0: nothing is committed
      node.settle();
      expect(node.rawNode.status().commit).toBe(0);
      expect(node.state.appliedAhead).toEqual(applyUncommitted ? [1, 2, 3] : []);
      expect(node.state.appliedIndexes).toEqual([]);
    }
  });
});

describe("ReadyPipeline on a leader", () => {
  test("an idle leader hands its appends to the network in the turn that took their Ready; a busy one waits for the end of the turn", () => {
    const node = new MemoryNode({ id: 1, voters: [1, 2, 3] });
    const term = electReplicatingLeader(node);
    node.sent.length = 0;
    node.flushedAt.length = 0;
    node.rawNode.propose(new TextEncoder().encode("x"));
    node.pipeline.kick();
    expect(node.runOne()).toBe(true); // one turn: the pump takes the Ready with the new entry
    const appends = node.sent.filter((message) => message.type === "app" && message.entries.length > 0);
    expect(appends.map((message) => [message.to, message.term])).toEqual([
      [2, term],
      [3, term],
    ]);
    // Flushed in that same turn, after the appends were sent: the server writes them to the peers
    // before the event loop polls again, not at the end of the turn.
    expect(node.flushedAt).toEqual([node.sent.length]);
    expect(node.log.lastIndex).toBeGreaterThan(0); // and the leader's own write has started

    // Under load, with that Ready's write still running, the next appends wait for the end of the
    // turn (no flush), so that everything sent in one turn shares one write per peer.
    const sentBefore = node.sent.length;
    node.rawNode.propose(new TextEncoder().encode("y"));
    node.pipeline.kick();
    expect(node.runOne()).toBe(true);
    expect(node.pipeline.readysInflight).toBe(2);
    expect(node.sent.slice(sentBefore).filter((message) => message.type === "app" && message.entries.length > 0)).toHaveLength(2);
    expect(node.flushedAt).toEqual([sentBefore]);
  });

  // perf trace at put concurrency 16: flushing the commit's messages woke both followers before the
  // answers to the clients left, and on two cores those answers then waited for a core.
  test("an idle leader does not flush a Ready that only commits: its answers leave before its commit messages", () => {
    const node = new MemoryNode({ id: 1, voters: [1, 2, 3] });
    const term = electReplicatingLeader(node);
    node.rawNode.propose(new TextEncoder().encode("x"));
    node.pipeline.kick();
    node.settle(); // appended, written and sent
    const index = node.rawNode.status().lastIndex;
    expect(node.pipeline.readysInflight).toBe(0);
    node.sent.length = 0;
    node.flushedAt.length = 0;

    node.step(newMessage("appResp", 1, { from: 2, term, index }));
    expect(node.runOne()).toBe(true); // the pump that takes the committing Ready
    expect(node.state.appliedIndexes).toContain(index); // applied (and answered) in that turn
    const commits = node.sent.filter((message) => message.type === "app" && message.entries.length === 0 && message.commit >= index);
    expect(commits.map((message) => message.to).sort()).toEqual([2, 3]);
    expect(node.flushedAt).toEqual([]); // they go at the end of the turn, after the answers
  });

  // The early apply: a Ready's committed entries that are already durable are applied, and their
  // clients answered, while the Ready's own new entries are being written. Taken into an idle
  // pipeline, such a Ready used to wait for its own write (one more fsync per operation under load).
  test("applies committed entries already durable while the Ready that commits them writes new ones", () => {
    const node = new MemoryNode({ id: 1, voters: [1, 2, 3] });
    const term = electLeader(node);
    for (let i = 0; i < 3; i++) {
      node.rawNode.propose(new TextEncoder().encode(`p${i}`));
    }
    node.pipeline.kick();
    node.settle(); // every entry written and synced here; none committed yet
    const durable = node.rawNode.status().lastIndex;
    expect(node.state.applied).toBe(0);
    // In one turn: a follower acknowledges every entry, and a client proposes one more.
    node.step(newMessage("appResp", 1, { from: 2, term, index: durable }));
    node.rawNode.propose(new TextEncoder().encode("p3"));
    node.run(); // takes the Ready (committed 1..durable, new entry durable+1); no disk operation completes
    expect(node.disk.queues.log.length).toBeGreaterThan(0);
    expect(node.state.applied).toBe(durable);
    node.settle();
    expect(node.fatal).toEqual([]);
  });
});

describe("ReadyPipeline on a leader taking a local snapshot", () => {
  // Issue 11, defect 3: serialisation ran in one synchronous block, so a large state stalled the
  // node's loop and no heartbeat left for as long. It now runs one slice per turn of the loop.
  test("heartbeats keep leaving between the slices of a snapshot's serialisation", () => {
    const slices = 6;
    const node = new MemoryNode({ id: 1, voters: [1, 2, 3], snapshotEvery: 3, snapshotSlices: slices });
    const term = electLeader(node);
    for (let i = 0; i < 3; i++) {
      node.rawNode.propose(new TextEncoder().encode(`p${i}`));
    }
    node.pipeline.kick();
    node.settle();
    const last = node.rawNode.status().lastIndex;
    node.step(newMessage("appResp", 1, { from: 2, term, index: last }));
    // Commit and apply: the snapshot's first slice runs in the same turn, the rest are deferred.
    while (node.state.applied < last) {
      expect(node.runOne()).toBe(true);
    }
    node.disk.completeAll();
    const state = node.state as SlicedCountingState;
    expect(state.slicesRun).toBe(1);
    node.take("heartbeat");
    // Each turn of the loop runs one deferred callback: a slice or a pump. A tick (heartbeatTicks 1)
    // makes the next pump send a heartbeat to each follower; note how many slices ran by then.
    const slicesDoneAtHeartbeat = new Set<number>();
    while (state.slicesRun < slices) {
      node.tick();
      expect(node.runOne()).toBe(true);
      const heartbeats = node.take("heartbeat");
      if (heartbeats.length > 0) {
        expect(new Set(heartbeats.map((message) => message.to))).toEqual(new Set([2, 3]));
        slicesDoneAtHeartbeat.add(state.slicesRun);
      }
    }
    // Heartbeats left between every two slices from the second on (the first tick's pump queues
    // behind slice 2): the snapshot never held them back.
    expect([...slicesDoneAtHeartbeat].filter((done) => done < slices)).toEqual(Array.from({ length: slices - 2 }, (_, i) => i + 2));
    node.settle();
    expect(node.fatal).toEqual([]);
    expect(node.log.snapshotIndex).toBe(last);
  });
});

describe("ReadyPipeline on a follower installing a leader's snapshot", () => {
  // Issue 11, defect 3: restoring a large state ran in one synchronous block, so a follower
  // installing the leader's snapshot answered no heartbeat for as long. It now runs one slice per
  // turn of the loop, the old state in force (and nothing applied) until the last slice.
  test("heartbeats keep leaving between the slices of a snapshot's install", () => {
    const slices = 5;
    const node = new MemoryNode({ id: 2, voters: [1, 2, 3], installSlices: slices });
    const state = node.state as SlicedCountingState;
    node.step(newMessage("app", 2, { from: 1, term: 1, index: 0, logTerm: 0, commit: 2, entries: entries(1, 1, 3) }));
    node.settle();
    expect(state.appliedIndexes).toEqual([1, 2]);
    node.sent.length = 0;
    const snapshot = { metadata: { index: 10, term: 1, confState: { voters: [1, 2, 3] } }, data: new TextEncoder().encode("10") };
    node.step(newMessage("snap", 2, { from: 1, term: 1, snapshot }));
    node.run();
    node.disk.completeAll(); // the snapshot file is saved: its marker and the Ready's write follow
    node.disk.completeAll();
    node.disk.completeAll();
    expect(state.installSlicesRun).toBe(1); // the first slice runs as the Ready reaches the head
    // Each turn: a heartbeat from the leader arrives and the node's clock ticks, then the loop runs
    // the next slice and the pump that they kicked. Every heartbeat is answered while the install
    // goes on: once the chain has made no progress for two ticks, held responses leave at each tick
    // (the first waits for the second tick and leaves with it).
    const answeredAfterSlices: number[] = [];
    while (state.installSlicesRun < slices) {
      expect(state.installed).toEqual([]); // the old state stays in force
      expect(state.applied).toBe(2); // and nothing applies
      expect(node.take("appResp")).toEqual([]); // the snapshot is acknowledged only once installed
      node.step(newMessage("heartbeat", 2, { from: 1, term: 1, commit: 10 }));
      node.tick();
      expect(node.runOne()).toBe(true);
      expect(node.runOne()).toBe(true);
      for (const response of node.take("heartbeatResp")) {
        expect(response.to).toBe(1);
        answeredAfterSlices.push(state.installSlicesRun);
      }
    }
    expect(answeredAfterSlices).toEqual([3, 3, 4, 5]);
    node.settle();
    expect(node.fatal).toEqual([]);
    expect(state.installed).toEqual([10]);
    expect(state.applied).toBe(10);
    expect(node.take("appResp").map((message) => message.index)).toContain(10);
  });
});
