import { describe, expect, test } from "vitest";
import { DeadlineError, deadlineAfter, linkedSignal, sleep } from "./deadline.js";

describe("deadlineAfter", () => {
  test("aborts with a DeadlineError naming the delay", async () => {
    const deadline = deadlineAfter(5);
    await new Promise((resolve) => deadline.signal.addEventListener("abort", resolve, { once: true }));
    expect(deadline.signal.reason).toBeInstanceOf(DeadlineError);
    expect((deadline.signal.reason as DeadlineError).message).toBe("deadline of 5 ms passed");
  });

  test("aborts with the parent's reason when a parent aborts first, and skips absent parents", () => {
    const parent = new AbortController();
    const deadline = deadlineAfter(60_000, undefined, parent.signal);
    const reason = new Error("stop");
    parent.abort(reason);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.signal.reason).toBe(reason);
  });

  test("is aborted at once under an aborted parent", () => {
    const parent = new AbortController();
    parent.abort(new Error("already"));
    expect(deadlineAfter(60_000, parent.signal).signal.reason).toEqual(new Error("already"));
  });

  test("dispose cancels the timer", async () => {
    const deadline = deadlineAfter(1);
    deadline.dispose();
    await sleep(20);
    expect(deadline.signal.aborted).toBe(false);
  });

  test.each([-1, Number.NaN, Number.POSITIVE_INFINITY])("refuses the delay %d", (delayMs) => {
    expect(() => deadlineAfter(delayMs)).toThrow(RangeError);
  });
});

describe("linkedSignal", () => {
  test("aborts when any parent aborts, never by itself", async () => {
    const first = new AbortController();
    const second = new AbortController();
    const linked = linkedSignal(first.signal, undefined, second.signal);
    await sleep(10);
    expect(linked.signal.aborted).toBe(false);
    second.abort(new Error("second"));
    expect((linked.signal.reason as Error).message).toBe("second");
  });
});

describe("sleep", () => {
  test("resolves after the delay, and at once for a negative one", async () => {
    const started = performance.now();
    await sleep(20);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
    await sleep(-5);
  });

  test("rejects with the signal's reason when it aborts, before or during the wait", async () => {
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    const reason = new Error("stopped");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(sleep(60_000, controller.signal)).rejects.toBe(reason);
    const plain = new AbortController();
    plain.abort();
    await expect(sleep(60_000, plain.signal)).rejects.toMatchObject({ name: "AbortError" });
  });
});
