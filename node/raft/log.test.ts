import { describe, expect, test } from "vitest";
import { RaftLog } from "./log.js";
import type { Entry } from "./messages.js";

function entries(terms: number[], start = 1): Entry[] {
  return terms.map((term, i) => ({ term, index: start + i, type: "normal", data: new Uint8Array(0) }));
}

describe("RaftLog", () => {
  test("maybeAppend truncates a conflicting uncommitted suffix and keeps matching entries", () => {
    const log = new RaftLog(undefined, entries([1, 1, 2, 2]), 2, 0);
    expect(log.maybeAppend(2, 1, 3, entries([3, 3], 3))).toBe(4);
    expect(log.entries.map((e) => e.term)).toEqual([1, 1, 3, 3]);
    expect(log.committed).toBe(3);
    expect(log.unstable.offset).toBe(3);
  });

  test("maybeAppend refuses a mismatch at the previous index", () => {
    const log = new RaftLog(undefined, entries([1, 1, 2]), 0, 0);
    expect(log.maybeAppend(3, 3, 3, entries([3], 4))).toBeUndefined();
    expect(log.maybeAppend(5, 2, 3, [])).toBeUndefined();
  });

  test("an append that repeats present entries changes nothing", () => {
    const log = new RaftLog(undefined, entries([1, 1, 2]), 0, 0);
    expect(log.maybeAppend(0, 0, 0, entries([1, 1], 1))).toBe(2);
    expect(log.lastIndex()).toBe(3);
    expect(log.unstable.offset).toBe(4);
  });

  test("findConflictByTerm returns the last index whose term is <= the given term", () => {
    const log = new RaftLog(undefined, entries([1, 1, 2, 2, 5, 5]), 0, 0);
    expect(log.findConflictByTerm(6, 4)).toEqual({ index: 4, term: 2 });
    expect(log.findConflictByTerm(6, 5)).toEqual({ index: 6, term: 5 });
    expect(log.findConflictByTerm(9, 1)).toEqual({ index: 2, term: 1 });
    expect(log.findConflictByTerm(6, 0)).toEqual({ index: 0, term: 0 });
  });

  test("slice honours the entry count and byte bounds but always returns one entry", () => {
    const big = (index: number): Entry => ({ term: 1, index, type: "normal", data: new Uint8Array(100) });
    const log = new RaftLog(undefined, [big(1), big(2), big(3), big(4)], 0, 0);
    expect(log.slice(1, 4, 10, 250).map((e) => e.index)).toEqual([1, 2]);
    expect(log.slice(1, 4, 3, 1 << 20).map((e) => e.index)).toEqual([1, 2, 3]);
    expect(log.slice(2, 4, 10, 1).map((e) => e.index)).toEqual([2]);
  });

  test("compact keeps the snapshot and the entries after it", () => {
    const log = new RaftLog(undefined, entries([1, 1, 2, 2]), 3, 3);
    log.compact(2, new Uint8Array([7]), { voters: [1, 2, 3] });
    expect(log.firstIndex()).toBe(3);
    expect(log.term(2)).toBe(1);
    expect(log.term(1)).toBeUndefined();
    expect(log.snapshot?.metadata).toEqual({ index: 2, term: 1, confState: { voters: [1, 2, 3] } });
    expect(log.slice(3, 4, 10, 100).map((e) => e.index)).toEqual([3, 4]);
  });

  test("restore replaces the log with the snapshot and marks it unstable", () => {
    const log = new RaftLog(undefined, entries([1, 1]), 1, 1);
    log.restore({ metadata: { index: 10, term: 3, confState: { voters: [1] } }, data: new Uint8Array() });
    expect(log.lastIndex()).toBe(10);
    expect(log.lastTerm()).toBe(3);
    expect(log.committed).toBe(10);
    expect(log.unstable.snapshot?.metadata.index).toBe(10);
  });
});
