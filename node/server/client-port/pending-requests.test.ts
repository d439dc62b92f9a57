import { describe, expect, it } from "vitest";
import { PendingRequests } from "./pending-requests.js";

describe("PendingRequests", () => {
  it("settles by id, expires in arrival order and fails the rest", () => {
    const pending = new PendingRequests<string>(3);
    const settled: string[] = [];
    const add = (id: number, deadlineMs: number): void => pending.add(id, { deadlineMs, settle: (r) => settled.push(`${id}:${r.ok ? r.outcome : r.code}`) });
    add(1, 100);
    add(2, 200);
    add(3, 300);
    expect(pending.full).toBe(true);
    expect(pending.resolve(2, "done")).toBe(true);
    expect(pending.resolve(2, "again")).toBe(false);
    expect(pending.expire(150, "late")).toBe(1);
    expect(pending.failAll("LEADERSHIP_LOST", "lost")).toBe(1);
    expect(settled).toEqual(["2:done", "1:TIMEOUT", "3:LEADERSHIP_LOST"]);
    expect(pending.size).toBe(0);
  });

  it("asserts that an id is pending once", () => {
    const pending = new PendingRequests<string>(3);
    pending.add(1, { deadlineMs: 0, settle: () => undefined });
    expect(() => pending.add(1, { deadlineMs: 0, settle: () => undefined })).toThrow(/invariant/);
  });
});
