// The checker's memory bound: a search that would outgrow it stops with verdict "unknown" and says
// why, instead of growing until the machine runs out (Porcupine's verbose mode reached 24 GB).
import { describe, expect, test } from "vitest";
import type { Plugin } from "../plugins/api.js";
import { queuePlugin } from "../plugins/queue/index.js";
import { simulateHistory } from "../history/simulate-history.js";
import { seededRandom } from "../lib/rng.js";
import { checkOperations, readOnlyOperations } from "./linearizable.js";
import { historyOperations } from "./operations.js";
import { ExploredMemo, LinearizedSet, type MemoUsage } from "./linearized-set.js";

const plugin = queuePlugin as Plugin<unknown>;

describe("memory bound", () => {
  test("a search past the bound is unknown, with the reason, and stops near the bound", () => {
    // Dense queue history with sizes and 5% unknown outcomes: the case the queue's pruning cannot
    // decide quickly, so its memo grows steadily.
    const events = simulateHistory(plugin, {
      clientCount: 16,
      operationCount: 5000,
      keys: [],
      infoProbability: 0.05,
      failProbability: 0.02,
      random: seededRandom(1),
    });
    const operations = historyOperations(events).operations;
    const bytesMax = 8 * 1024 * 1024;
    const heapBefore = process.memoryUsage().heapUsed;
    const result = checkOperations(plugin.model, operations, { readOnly: readOnlyOperations(plugin), timeoutMs: 600_000, memoBytesMax: bytesMax });
    expect(result.verdict).toBe("unknown");
    expect(result.reason).toBe("the search memo reached its memory bound of 8 MiB");
    // Loose: the bound is an estimate, and the heap also holds the history and the search stack.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(20 * bytesMax);
  });

  test("a search past the bound on measured resident memory is unknown, naming the bound", () => {
    const events = simulateHistory(plugin, {
      clientCount: 16,
      operationCount: 5000,
      keys: [],
      infoProbability: 0.05,
      failProbability: 0.02,
      random: seededRandom(1),
    });
    const operations = historyOperations(events).operations;
    // Already above it: the first slice of the search must notice.
    const memoryBytesMax = process.memoryUsage.rss() / 2;
    const result = checkOperations(plugin.model, operations, { readOnly: readOnlyOperations(plugin), timeoutMs: 600_000, memoryBytesMax });
    expect(result.verdict).toBe("unknown");
    expect(result.reason).toMatch(/^the process reached its memory bound: \d+ MiB resident, bound \d+ MiB$/);
  });

  test("a memo does not grow past the room left under the bound, and says so", () => {
    // Its arrays double: one growth of a large memo could pass the bound by the new array's size,
    // between two measurements of the resident memory.
    const usage: MemoUsage = { entries: 0, bytes: 0, bytesMax: Infinity, growthBytesMax: 0, growthRefused: false };
    const memo = new ExploredMemo(usage);
    const set = new LinearizedSet(2048, 0);
    let stored = 0;
    for (let member = 0; member < 2048 && !usage.growthRefused; member += 1) {
      set.add(member);
      memo.addIfNew(set, "s");
      stored = usage.entries;
    }
    expect(usage.growthRefused).toBe(true);
    // The initial capacity (512 entries) fills; the 513th entry would need the arrays to grow.
    expect(stored).toBe(512);
    // With room, the same memo grows and stores past it.
    usage.growthRefused = false;
    usage.growthBytesMax = 2 ** 20;
    set.add(2047);
    expect(memo.addIfNew(set, "s")).toBe(true);
    expect(usage.entries).toBe(513);
    expect(usage.growthBytesMax).toBeLessThan(2 ** 20);
  });
});
