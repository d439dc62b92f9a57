import { describe, expect, it } from "vitest";
import { FAILPOINT_NAMES, parseFailpointAction } from "../protocol/failpoints.js";
import { Failpoints, FailpointError } from "./failpoints.js";
import { parseClientRequest } from "./client-port/client-request.js";

function recorder(): { failpoints: Failpoints; panics: string[] } {
  const panics: string[] = [];
  const failpoints = new Failpoints({
    panic: (name) => {
      panics.push(name);
      throw new Error(`panic at ${name}`);
    },
  });
  return { failpoints, panics };
}

describe("failpoints", () => {
  it("parses the actions gofail users write, and nothing else", () => {
    expect(parseFailpointAction("sleep(500ms)")).toEqual({ kind: "sleep", ms: 500 });
    expect(parseFailpointAction("sleep(2s)")).toEqual({ kind: "sleep", ms: 2000 });
    expect(parseFailpointAction("sleep(20)")).toEqual({ kind: "sleep", ms: 20 });
    expect(parseFailpointAction("panic")).toEqual({ kind: "panic" });
    expect(parseFailpointAction("error")).toEqual({ kind: "error" });
    expect(parseFailpointAction("off")).toEqual({ kind: "off" });
    for (const bad of ["sleep", "sleep(-1ms)", "sleep(1h)", "sleep(999999s)", "crash", ""]) {
      expect(parseFailpointAction(bad)).toBeUndefined();
    }
  });

  it("a disarmed point costs nothing; sleep waits, error rejects, panic ends the process, off disarms", async () => {
    const { failpoints, panics } = recorder();
    for (const name of FAILPOINT_NAMES) {
      expect(failpoints.hit(name)).toBeUndefined();
    }
    failpoints.set("beforeFsync", { kind: "sleep", ms: 30 });
    const started = performance.now();
    await failpoints.hit("beforeFsync");
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    failpoints.set("afterWalWrite", { kind: "error" });
    await expect(failpoints.hit("afterWalWrite")).rejects.toBeInstanceOf(FailpointError);
    failpoints.set("beforeApply", { kind: "panic" });
    expect(() => failpoints.hit("beforeApply")).toThrow("panic at beforeApply");
    expect(panics).toEqual(["beforeApply"]);
    expect(failpoints.list()).toEqual({ beforeFsync: "sleep(30ms)", afterWalWrite: "error", beforeApply: "panic" });
    failpoints.set("beforeFsync", { kind: "off" });
    expect(failpoints.hit("beforeFsync")).toBeUndefined();
  });

  it("the client port's failpoint request names the point and the action, or says which field is bad", () => {
    const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
    expect(parseClientRequest(encode({ id: 1, type: "failpoint", name: "beforeFsync", action: "sleep(500ms)" }))).toEqual({
      ok: true,
      request: { id: 1, type: "failpoint", name: "beforeFsync", action: "sleep(500ms)" },
    });
    expect(parseClientRequest(encode({ id: 1, type: "failpoint", name: "nowhere", action: "panic" }))).toMatchObject({ ok: false });
    expect(parseClientRequest(encode({ id: 1, type: "failpoint", name: "beforeFsync", action: "explode" }))).toMatchObject({ ok: false });
  });
});
