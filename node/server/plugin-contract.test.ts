import { describe, expect, it } from "vitest";
import { checkedSnapshotBytes, jsonProblem, PluginContractError } from "./plugin-contract.js";

describe("plugin answers", () => {
  it("accepts plain JSON values", () => {
    expect(jsonProblem({ a: [1, "x", null, true, { b: -2.5 }] })).toBeUndefined();
  });

  it.each([
    [10n, "result is a bigint, which JSON cannot encode"],
    [{ a: [undefined] }, "result.a[0] is a undefined, which JSON cannot encode"],
    [{ f: () => 1 }, "result.f is a function, which JSON cannot encode"],
    [Number.NaN, "result is NaN, which JSON cannot encode"],
    [new Map(), "result is a Map instance, not a plain object"],
  ])("names what JSON cannot carry: %s", (value, problem) => {
    expect(jsonProblem(value)).toBe(problem);
  });

  it("refuses cycles and depth without overflowing the stack", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    expect(jsonProblem(cyclic)).toBe("result.self refers to itself (a cycle)");
    let deep: unknown = 1;
    for (let k = 0; k < 100_000; k++) deep = [deep];
    expect(jsonProblem(deep)).toMatch(/is nested deeper than 256 levels$/);
  });

  it("snapshot bytes must be a Uint8Array", () => {
    expect(checkedSnapshotBytes("p", Uint8Array.of(1))).toEqual(Uint8Array.of(1));
    expect(() => checkedSnapshotBytes("p", "abc")).toThrow(PluginContractError);
    expect(() => checkedSnapshotBytes("p", "abc")).toThrow("plugin p: snapshot() returned a string; the contract asks for a Uint8Array (nothing was written)");
  });
});
