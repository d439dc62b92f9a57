// The example third-party plugin, loaded the way raftlab loads any plugin given by path, must
// pass the same compliance suite as the built-in ones.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { describePluginCompliance } from "../compliance.js";
import { loadPlugin } from "../registry.js";
import { ok, op } from "../testing/test-support.js";

const repositoryRoot = fileURLToPath(new URL("../..", import.meta.url));
const plugin = await loadPlugin("./plugins/examples/set-plugin.ts", { cwd: repositoryRoot });

describePluginCompliance(plugin);

describe("example grow-only set plugin, loaded by path", () => {
  it("loads with its own name and operations", () => {
    expect(plugin.name).toBe("grow-only-set");
    expect(Object.keys(plugin.operations)).toEqual(["add", "read"]);
  });

  it("reads the sorted members; adding twice changes nothing", () => {
    const machine = plugin.createStateMachine();
    machine.apply(op("add", null, "b"));
    machine.apply(op("add", null, "a"));
    machine.apply(op("add", null, "b"));
    expect(machine.apply(op("read", null))).toEqual(["a", "b"]);
  });

  it("its model refuses a read that lost a member", () => {
    const { model } = plugin;
    const state = model.step(model.init(), op("add", null, "a"), ok(null));
    expect(model.step(state, op("read", null), ok(["a"]))).toBeDefined();
    expect(model.step(state, op("read", null), ok([]))).toBeUndefined();
  });
});
