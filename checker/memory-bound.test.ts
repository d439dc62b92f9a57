// The checker's memory bound: a search that would outgrow it stops with verdict "unknown" and says
// why, instead of growing until the machine runs out (Porcupine's verbose mode reached 24 GB).
import { describe, expect, test } from "vitest";
import type { Plugin } from "../plugins/api.js";
import { queuePlugin } from "../plugins/queue/index.js";
import { simulateHistory } from "../history/simulate-history.js";
import { seededRandom } from "../lib/rng.js";
import { checkOperations, readOnlyOperations } from "./linearizable.js";
import { historyOperations } from "./operations.js";

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
});
