import { describe, expect, it } from "vitest";
import { ReadBatcher, type WaitingRead } from "./read-batcher.js";

function harness(inflightMax = 2, origin = { nodeId: 1, boot: 7 }) {
  const requested: Uint8Array[] = [];
  const batcher = new ReadBatcher({ requestReadIndex: (context) => requested.push(context), reissueAfterMs: 100, waitingMax: 3, inflightMax, origin });
  const events: string[] = [];
  const read = (name: string, deadlineMs = 1000): WaitingRead => ({
    deadlineMs,
    serve: () => events.push(`${name}:served`),
    fail: (code) => events.push(`${name}:${code}`),
  });
  return { batcher, requested, events, read };
}

describe("ReadBatcher", () => {
  it("covers the reads queued before a flush with one request; later reads need a later request", () => {
    const { batcher, requested, events, read } = harness();
    batcher.add(read("a"));
    batcher.add(read("b"));
    batcher.flush(0);
    expect(requested.length).toBe(1);
    batcher.add(read("c")); // arrived after a and b's request was issued
    batcher.onReadState(requested[0]!, 10);
    batcher.onApplied(10);
    expect(events).toEqual(["a:served", "b:served"]);
    batcher.flush(1);
    expect(requested.length).toBe(2);
    batcher.onReadState(requested[1]!, 12);
    batcher.onApplied(11);
    expect(events).toEqual(["a:served", "b:served"]);
    batcher.onApplied(12);
    expect(events).toEqual(["a:served", "b:served", "c:served"]);
    expect(batcher.waiting).toBe(0);
  });

  it("pipelines up to inflightMax requests", () => {
    const { batcher, requested, read } = harness(2);
    for (const name of ["a", "b", "c"]) {
      batcher.add(read(name));
      batcher.flush(0);
    }
    expect(requested.length).toBe(2); // c waits for a free slot
    batcher.onReadState(requested[0]!, 5);
    batcher.flush(1);
    expect(requested.length).toBe(3);
  });

  it("ignores a stale context, reissues a dropped request and expires reads at their deadline", () => {
    const { batcher, requested, events, read } = harness();
    batcher.add(read("a", 500));
    batcher.flush(0);
    batcher.onTimer(150); // no read state after reissueAfterMs: ask again
    expect(requested.length).toBe(2);
    batcher.onReadState(requested[0]!, 5); // the first request's late answer is ignored
    batcher.onApplied(5);
    expect(events).toEqual([]);
    batcher.onTimer(600);
    expect(events).toEqual(["a:TIMEOUT"]);
    expect(batcher.waiting).toBe(0);
  });

  it("on leadership loss fails only reads without a confirmed index", () => {
    const { batcher, requested, events, read } = harness();
    batcher.add(read("a"));
    batcher.flush(0);
    batcher.onReadState(requested[0]!, 7);
    batcher.add(read("b"));
    batcher.flush(1);
    batcher.failUnconfirmed("lost");
    expect(events).toEqual(["b:UNAVAILABLE"]);
    batcher.onApplied(7);
    expect(events).toEqual(["b:UNAVAILABLE", "a:served"]);
  });

  // The leader keeps one pending read per context: two nodes forwarding the same context would
  // share one read state, and a restarted node reusing a context could get an older read index.
  it("issues contexts unique across nodes and across lives of one node", () => {
    const contexts = [harness(2, { nodeId: 1, boot: 7 }), harness(2, { nodeId: 2, boot: 7 }), harness(2, { nodeId: 1, boot: 8 })].map(
      ({ batcher, requested, read }) => {
        batcher.add(read("a"));
        batcher.flush(0);
        return Buffer.from(requested[0]!).toString("hex");
      },
    );
    expect(new Set(contexts).size).toBe(3);
  });

  it("reports full at its bound", () => {
    const { batcher, read } = harness();
    for (const name of ["a", "b", "c"]) {
      batcher.add(read(name));
    }
    expect(batcher.full).toBe(true);
  });
});
