import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { ClientResponse } from "../../protocol/client-protocol.js";
import { StateHashWaiters } from "./state-hash.js";

describe("stateHash waiters", () => {
  it("answers once the index is applied, hashing the snapshot taken then, and times out the rest", () => {
    const waiters = new StateHashWaiters();
    const answers: ClientResponse[] = [];
    waiters.add({ id: 1, atLeast: 5, deadlineMs: 100, reply: (response) => answers.push(response) });
    waiters.add({ id: 2, atLeast: 9, deadlineMs: 100, reply: (response) => answers.push(response) });
    let snapshots = 0;
    const bytes = new TextEncoder().encode("state at 6");
    waiters.onApplied(4, () => new Uint8Array());
    expect(answers).toEqual([]);
    waiters.onApplied(6, () => {
      snapshots += 1;
      return bytes;
    });
    expect(snapshots).toBe(1);
    expect(answers).toEqual([{ id: 1, ok: true, result: { applied: 6, sha256: createHash("sha256").update(bytes).digest("hex"), bytes: 10 } }]);
    waiters.expire(100, 6);
    expect(answers[1]).toEqual({ id: 2, ok: false, code: "TIMEOUT", message: "index 9 not applied in time (applied: 6)" });
  });

  it("answers PLUGIN_FAILED when snapshot() throws", () => {
    const waiters = new StateHashWaiters();
    const answers: ClientResponse[] = [];
    waiters.add({ id: 3, atLeast: 0, deadlineMs: 100, reply: (response) => answers.push(response) });
    waiters.onApplied(0, () => {
      throw new Error("plugin p: snapshot() returned a string");
    });
    expect(answers).toEqual([{ id: 3, ok: false, code: "PLUGIN_FAILED", message: "plugin p: snapshot() returned a string" }]);
  });
});
