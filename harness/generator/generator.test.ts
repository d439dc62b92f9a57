import { describe, expect, it } from "vitest";
import type { OperationSpec } from "../../plugins/api.js";
import { planFinalPhase } from "./final-reads.js";
import { OperationGenerator, type GeneratorOptions } from "./generator.js";
import { RateLimiter } from "./rate-limiter.js";

// Operation specs shaped like the kv plugin's: the generator only calls `argument`.
const operations: Record<string, OperationSpec> = {
  get: { readOnly: true, keyed: true, argument: () => null },
  put: { readOnly: false, keyed: true, argument: ({ unique }) => `v${unique}` },
  cas: {
    readOnly: false,
    keyed: true,
    argument: ({ unique, random }) => [`v${Math.max(1, unique - 1 - Math.floor(random() * 3))}`, `v${unique}`],
  },
};

const options = (seed: number, overrides: Partial<GeneratorOptions> = {}): GeneratorOptions => ({
  operations,
  mix: { get: 2, put: 1, cas: 1 },
  keys: 5,
  distribution: "uniform",
  seed,
  ...overrides,
});

function take(generator: OperationGenerator, count: number): ReturnType<OperationGenerator["next"]>[] {
  return Array.from({ length: count }, () => generator.next());
}

describe("OperationGenerator", () => {
  it("is a function of the seed", () => {
    const stream = take(new OperationGenerator(options(42)), 200);
    expect(take(new OperationGenerator(options(42)), 200)).toEqual(stream);
    expect(take(new OperationGenerator(options(43)), 200)).not.toEqual(stream);
  });

  it("follows the mix weights, reads are read-only, keys come from the key space", () => {
    const counts: Record<string, number> = {};
    const keys = new Set<string | null>();
    for (const operation of take(new OperationGenerator(options(7)), 20_000)) {
      counts[operation.f] = (counts[operation.f] ?? 0) + 1;
      keys.add(operation.key);
      expect(operation.readOnly).toBe(operation.f === "get");
    }
    expect(Math.round((counts["get"] ?? 0) / 1_000)).toBe(10);
    expect(Math.round((counts["put"] ?? 0) / 1_000)).toBe(5);
    expect(Math.round((counts["cas"] ?? 0) / 1_000)).toBe(5);
    expect([...keys].sort()).toEqual(["0", "1", "2", "3", "4"]);
  });

  it("never writes the same value twice in a run", () => {
    const written = take(new OperationGenerator(options(3, { mix: { put: 1 } })), 5_000).map((operation) => operation.value);
    expect(new Set(written).size).toBe(written.length);
  });

  it("skews keys towards the first ones with the zipf distribution", () => {
    const counts = new Map<string | null, number>();
    for (const operation of take(new OperationGenerator(options(5, { keys: 10, distribution: "zipf" })), 20_000)) {
      counts.set(operation.key, (counts.get(operation.key) ?? 0) + 1);
    }
    expect(counts.get("0") ?? 0).toBeGreaterThan(4 * (counts.get("9") ?? 0));
    expect(counts.size).toBe(10);
  });

  it("plans final reads per key, and a drain for a queue", () => {
    const generator = new OperationGenerator(options(1));
    const final = planFinalPhase(generator, operations, 3);
    expect(final.reads.map((operation) => [operation.f, operation.key])).toEqual([
      ["get", "0"],
      ["get", "1"],
      ["get", "2"],
    ]);
    expect(final.drain).toBeUndefined();
    const queue: Record<string, OperationSpec> = {
      enqueue: { readOnly: false, keyed: false, argument: ({ unique }) => unique },
      dequeue: { readOnly: false, keyed: false, argument: () => null },
      size: { readOnly: true, keyed: false, argument: () => null },
    };
    const queueGenerator = new OperationGenerator({ ...options(1), operations: queue, mix: { enqueue: 1 } });
    const queueFinal = planFinalPhase(queueGenerator, queue, 3);
    expect(queueFinal.reads.map((operation) => [operation.f, operation.key])).toEqual([["size", null]]);
    expect(queueFinal.drain).toBe("dequeue");
  });
});

describe("RateLimiter", () => {
  it("rejects when its signal aborts while waiting", async () => {
    const limiter = new RateLimiter(0.001);
    const controller = new AbortController();
    await limiter.acquire(controller.signal);
    const waiting = limiter.acquire(controller.signal);
    const reason = new Error("run over");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });
});
