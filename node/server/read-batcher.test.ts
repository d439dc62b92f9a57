import { describe, expect, it } from "vitest";
import { ReadBatcher, type WaitingRead } from "./read-batcher.js";

function harness() {
  const requested: Uint8Array[] = [];
  const batcher = new ReadBatcher({ requestReadIndex: (context) => requested.push(context), reissueAfterMs: 100, waitingMax: 3 });
  const events: string[] = [];
  const read = (name: string, deadlineMs = 1000): WaitingRead => ({
    deadlineMs,
    serve: () => events.push(`${name}:served`),
    fail: (code) => events.push(`${name}:${code}`),
  });
  return { batcher, requested, events, read };
}

describe("ReadBatcher", () => {
  it("covers reads that arrived before a read index request with one request, later ones with the next", () => {
    const { batcher, requested, events, read } = harness();
    batcher.add(read("a"), 0);
    batcher.add(read("b"), 0); // arrives while a's request is in flight: must wait for the next
    expect(requested.length).toBe(1);
    batcher.onReadState(requested[0]!, 10, 1);
    expect(requested.length).toBe(2); // b's batch issued once a's came back
    batcher.onApplied(9);
    expect(events).toEqual([]);
    batcher.onApplied(10);
    expect(events).toEqual(["a:served"]);
    batcher.onReadState(requested[1]!, 12, 2);
    batcher.onApplied(12);
    expect(events).toEqual(["a:served", "b:served"]);
    expect(batcher.waiting).toBe(0);
  });

  it("ignores a stale context, reissues a dropped request and expires reads at their deadline", () => {
    const { batcher, requested, events, read } = harness();
    batcher.add(read("a", 500), 0);
    batcher.onTimer(150); // no read state after reissueAfterMs: ask again
    expect(requested.length).toBe(2);
    batcher.onReadState(requested[0]!, 5, 160); // the first request's late answer is ignored
    batcher.onApplied(5);
    expect(events).toEqual([]);
    batcher.onTimer(600);
    expect(events).toEqual(["a:TIMEOUT"]);
    expect(batcher.waiting).toBe(0);
  });

  it("on leadership loss fails only reads without a confirmed index", () => {
    const { batcher, requested, events, read } = harness();
    batcher.add(read("a"), 0);
    batcher.onReadState(requested[0]!, 7, 1);
    batcher.add(read("b"), 2);
    batcher.failUnconfirmed("lost");
    expect(events).toEqual(["b:UNAVAILABLE"]);
    batcher.onApplied(7);
    expect(events).toEqual(["b:UNAVAILABLE", "a:served"]);
  });

  it("reports full at its bound", () => {
    const { batcher, read } = harness();
    for (const name of ["a", "b", "c"]) {
      batcher.add(read(name), 0);
    }
    expect(batcher.full).toBe(true);
  });
});
