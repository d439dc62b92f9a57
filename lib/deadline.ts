// Waits that honour an AbortSignal: a signal that aborts after a delay or when any parent aborts
// (with an explicit dispose), and a sleep that ends early with the signal's reason.
// Not AbortSignal.any([AbortSignal.timeout(ms), parent]): on Node 20 the combined signal holds its
// sources weakly, so the timeout signal can be garbage-collected and never fire.

export interface Deadline {
  signal: AbortSignal;
  /** Cancels the timer and detaches from the parents; call it when the guarded work is done. */
  dispose(): void;
}

/**
 * A signal that aborts with a DeadlineError after `delayMs`, or with a parent's reason when a parent
 * aborts first. Absent parents (`undefined`) are skipped, for optional caller signals.
 */
export function deadlineAfter(delayMs: number, ...parents: readonly (AbortSignal | undefined)[]): Deadline {
  if (!(delayMs >= 0) || !Number.isFinite(delayMs)) {
    throw new RangeError(`a deadline needs a finite delay >= 0, got ${delayMs}`);
  }
  return linkedDeadline(delayMs, present(parents));
}

/** A signal that aborts when any parent aborts (no timer). */
export function linkedSignal(...parents: readonly (AbortSignal | undefined)[]): Deadline {
  return linkedDeadline(undefined, present(parents));
}

/**
 * Resolves after `delayMs` (negative counts as 0), or rejects with the signal's reason (as
 * `signal.throwIfAborted()` would throw it) as soon as `signal` aborts.
 */
export function sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(reasonOf(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(reasonOf(signal!));
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, delayMs),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function reasonOf(signal: AbortSignal): unknown {
  return signal.reason as unknown;
}

function present(parents: readonly (AbortSignal | undefined)[]): AbortSignal[] {
  return parents.filter((parent): parent is AbortSignal => parent !== undefined);
}

function linkedDeadline(delayMs: number | undefined, parents: readonly AbortSignal[]): Deadline {
  const controller = new AbortController();
  const timer = delayMs === undefined ? undefined : setTimeout(() => controller.abort(new DeadlineError(delayMs)), delayMs);
  const onParentAbort = (event: Event): void => {
    controller.abort((event.target as AbortSignal).reason);
  };
  for (const parent of parents) {
    if (parent.aborted) {
      controller.abort(parent.reason);
    } else {
      parent.addEventListener("abort", onParentAbort, { once: true });
    }
  }
  const dispose = (): void => {
    clearTimeout(timer);
    for (const parent of parents) {
      parent.removeEventListener("abort", onParentAbort);
    }
  };
  controller.signal.addEventListener("abort", dispose, { once: true });
  return { signal: controller.signal, dispose };
}

export class DeadlineError extends Error {
  readonly code = "DEADLINE";
  override readonly name = "DeadlineError";
  constructor(readonly delayMs: number) {
    super(`deadline of ${delayMs} ms passed`);
  }
}
