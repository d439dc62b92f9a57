import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  applyGrudge,
  bisect,
  bridge,
  completeGrudge,
  grudgeToJson,
  isolate,
  majoritiesRing,
  receives,
  replacePartition,
  silenceOutbound,
  type Grudge,
} from "./grudge.js";
import type { NetworkControl } from "../runtime/runtime.js";
import { majority } from "../../lib/majority.js";

/** Distinct node ids, 3 to 9 of them, in random order. */
const nodeLists = fc.uniqueArray(fc.integer({ min: 1, max: 50 }), { minLength: 3, maxLength: 9 });

function heardBy(grudge: Grudge, node: number, nodeIds: readonly number[]): number[] {
  return nodeIds.filter((from) => from === node || receives(grudge, node, from)).sort((a, b) => a - b);
}

describe("grudges", () => {
  test("halves of 3 and 5 nodes", () => {
    expect(bisect([1, 2, 3])).toEqual([[1], [2, 3]]);
    expect(grudgeToJson(completeGrudge(bisect([1, 2, 3, 4, 5])))).toEqual({ "1": [3, 4, 5], "2": [3, 4, 5], "3": [1, 2], "4": [1, 2], "5": [1, 2] });
  });

  test("isolating a node cuts it off both ways and leaves the rest connected", () => {
    expect(grudgeToJson(isolate(2, [1, 2, 3]))).toEqual({ "1": [2], "2": [1, 3], "3": [2] });
  });

  test("one-way: everyone drops what the node sends, it still hears everyone", () => {
    expect(grudgeToJson(silenceOutbound(3, [1, 2, 3]))).toEqual({ "1": [3], "2": [3], "3": [] });
  });

  test("majorities ring: every node hears a majority (itself included), and no two hear the same set", () => {
    fc.assert(
      fc.property(nodeLists, (nodeIds) => {
        const grudge = majoritiesRing(nodeIds);
        const views = nodeIds.map((node) => heardBy(grudge, node, nodeIds));
        expect(views.every((view) => view.length === majority(nodeIds.length))).toBe(true);
        expect(new Set(views.map((view) => view.join(","))).size).toBe(nodeIds.length);
      }),
    );
  });

  test("majorities ring of 5 in order 1..5: each node hears its two ring neighbours", () => {
    expect(grudgeToJson(majoritiesRing([1, 2, 3, 4, 5]))).toEqual({ "1": [3, 4], "2": [4, 5], "3": [1, 5], "4": [1, 2], "5": [2, 3] });
  });

  test("bridge: the bridge node hears everyone; the two sides hear nothing of each other", () => {
    fc.assert(
      fc.property(nodeLists, (nodeIds) => {
        const { grudge, bridgeNode } = bridge(nodeIds);
        const [first, second] = bisect(nodeIds);
        const rest = second.filter((node) => node !== bridgeNode);
        expect(heardBy(grudge, bridgeNode, nodeIds)).toEqual([...nodeIds].sort((a, b) => a - b));
        for (const a of first) {
          for (const b of rest) {
            expect([receives(grudge, a, b), receives(grudge, b, a)]).toEqual([false, false]);
          }
          expect(receives(grudge, a, bridgeNode)).toBe(true);
        }
      }),
    );
  });
});

describe("replacePartition", () => {
  test("replaces every block in one call where the network can, else heals and blocks pair by pair", async () => {
    const calls: string[] = [];
    const base = {
      block: async (from: number, to: number) => void calls.push(`block ${from}->${to}`),
      heal: async () => void calls.push("heal"),
    };
    const grudge = isolate(3, [1, 2, 3]);
    await replacePartition(base as unknown as NetworkControl, grudge);
    expect(calls[0]).toBe("heal");
    expect(calls.slice(1).sort()).toEqual(["block 1->3", "block 2->3", "block 3->1", "block 3->2"]);
    calls.length = 0;
    const atOnce = { ...base, replaceBlocks: async (blocks: ReadonlyArray<readonly [number, number]>) => void calls.push(`replace ${JSON.stringify(blocks)}`) };
    await replacePartition(atOnce as unknown as NetworkControl, grudge);
    expect(calls).toHaveLength(1);
    expect(JSON.parse(calls[0]!.slice("replace ".length)).sort()).toEqual(
      [
        [1, 3],
        [2, 3],
        [3, 1],
        [3, 2],
      ].sort(),
    );
  });
});

describe("applyGrudge", () => {
  test("adds every block in one call where the network can, else blocks pair by pair", async () => {
    const calls: string[] = [];
    const base = { block: async (from: number, to: number) => void calls.push(`block ${from}->${to}`) };
    const grudge = isolate(1, [1, 2, 3]);
    await applyGrudge(base as unknown as NetworkControl, grudge);
    expect(calls.sort()).toEqual(["block 1->2", "block 1->3", "block 2->1", "block 3->1"]);
    calls.length = 0;
    const atOnce = { ...base, addBlocks: async (blocks: ReadonlyArray<readonly [number, number]>) => void calls.push(`add ${JSON.stringify(blocks)}`) };
    await applyGrudge(atOnce as unknown as NetworkControl, grudge);
    expect(calls).toHaveLength(1);
    expect(JSON.parse(calls[0]!.slice("add ".length)).sort()).toEqual(
      [
        [1, 2],
        [1, 3],
        [2, 1],
        [3, 1],
      ].sort(),
    );
  });
});
