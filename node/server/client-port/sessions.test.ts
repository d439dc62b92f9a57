import { describe, expect, it } from "vitest";
import { SessionTable, SessionTableError, type CommandOutcome } from "./sessions.js";

const ok = (result: string): CommandOutcome => ({ ok: true, result });

describe("SessionTable", () => {
  it("classifies new, duplicate and stale sequence numbers", () => {
    const table = new SessionTable(10);
    expect(table.check("a", 1)).toEqual({ kind: "unknown" });
    table.open("a");
    expect(table.check("a", 1)).toEqual({ kind: "new" });
    table.record("a", 1, ok("one"));
    expect(table.check("a", 1)).toEqual({ kind: "duplicate", outcome: ok("one") });
    expect(table.check("a", 2)).toEqual({ kind: "new" });
    table.record("a", 2, ok("two"));
    expect(table.check("a", 1)).toEqual({ kind: "stale", lastSeq: 2 });
  });

  it("evicts the least recently applied session first, identically after a snapshot round trip", () => {
    const table = new SessionTable(3);
    for (const id of ["a", "b", "c"]) {
      table.open(id);
      table.record(id, 1, ok(`${id}1`));
    }
    table.record("a", 2, ok("a2")); // a is now the most recent
    const copy = new SessionTable(3);
    copy.restore(JSON.parse(JSON.stringify(table.toJson())));
    for (const t of [table, copy]) {
      t.open("d");
      expect(t.size).toBe(3);
      expect(t.check("b", 1)).toEqual({ kind: "unknown" }); // b expired
      expect(t.check("a", 2)).toEqual({ kind: "duplicate", outcome: ok("a2") });
    }
    expect(copy.toJson()).toEqual(table.toJson());
  });

  it("refuses a malformed snapshot table naming the row", () => {
    const table = new SessionTable(3);
    expect(() =>
      table.restore([
        ["a", 1, { ok: true, result: null }],
        ["b", "x", {}],
      ]),
    ).toThrow(new SessionTableError("session table row 1: bad clientId, seq or outcome"));
    expect(table.size).toBe(0);
  });

  it("asserts that a recorded seq increases", () => {
    const table = new SessionTable(3);
    table.open("a");
    table.record("a", 5, ok("x"));
    expect(() => table.record("a", 5, ok("y"))).toThrow(/invariant/);
  });
});
