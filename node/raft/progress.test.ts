import { describe, expect, test } from "vitest";
import { Progress } from "./progress.js";
import { Inflights } from "./inflights.js";

describe("Progress", () => {
  test("probe sends one message at a time until acknowledged", () => {
    const progress = new Progress({ match: 0, next: 5, maxInflight: 4 });
    expect(progress.isPaused()).toBe(false);
    progress.sentEntries(2, 6);
    expect(progress.isPaused()).toBe(true);
    expect(progress.maybeUpdate(6)).toBe(true);
    expect(progress.isPaused()).toBe(false);
  });

  test("replicate pipelines up to the inflight window", () => {
    const progress = new Progress({ match: 4, next: 5, maxInflight: 2 });
    progress.becomeReplicate();
    progress.sentEntries(1, 5);
    progress.sentEntries(1, 6);
    expect(progress.next).toBe(7);
    expect(progress.isPaused()).toBe(true);
    progress.maybeUpdate(5);
    progress.inflights.freeLE(5);
    expect(progress.isPaused()).toBe(false);
  });

  test("maybeDecrTo ignores stale rejections and jumps to the hint", () => {
    const progress = new Progress({ match: 0, next: 11, maxInflight: 2 });
    expect(progress.maybeDecrTo(9, 3)).toBe(false);
    expect(progress.maybeDecrTo(10, 3)).toBe(true);
    expect(progress.next).toBe(4);
    const replicating = new Progress({ match: 5, next: 6, maxInflight: 2 });
    replicating.becomeReplicate();
    expect(replicating.maybeDecrTo(5, 0)).toBe(false);
    expect(replicating.maybeDecrTo(8, 0)).toBe(true);
    expect(replicating.next).toBe(6);
  });

  test("snapshot state pauses; probe afterwards resumes after the snapshot", () => {
    const progress = new Progress({ match: 2, next: 3, maxInflight: 2 });
    progress.becomeSnapshot(20);
    expect(progress.isPaused()).toBe(true);
    progress.becomeProbe();
    expect(progress.next).toBe(21);
  });
});

describe("Inflights", () => {
  test("frees acknowledged messages in order and wraps around", () => {
    const inflights = new Inflights(3);
    for (const index of [1, 2, 3]) {
      inflights.add(index);
    }
    expect(inflights.full()).toBe(true);
    inflights.freeLE(2);
    expect(inflights.count).toBe(1);
    inflights.add(4);
    inflights.add(5);
    inflights.freeLE(4);
    expect(inflights.count).toBe(1);
    inflights.freeFirstOne();
    expect(inflights.count).toBe(0);
  });
});
