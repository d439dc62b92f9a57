// A signal that aborts after a delay or when any parent aborts, with an explicit dispose.
// Not AbortSignal.any([AbortSignal.timeout(ms), parent]): on Node 20 the combined signal holds its
// sources weakly, so the timeout signal can be garbage-collected and never fire.

export interface Deadline {
  signal: AbortSignal;
  /** Cancels the timer and detaches from the parents; call it when the guarded work is done. */
  dispose(): void;
}

export function deadlineAfter(delayMs: number, ...parents: readonly AbortSignal[]): Deadline {
  if (!(delayMs >= 0) || !Number.isFinite(delayMs)) {
    throw new RangeError(`a deadline needs a finite delay >= 0, got ${delayMs}`);
  }
  return linkedDeadline(delayMs, parents);
}

/** A signal that aborts when any parent aborts (no timer). */
export function linkedSignal(...parents: readonly AbortSignal[]): Deadline {
  return linkedDeadline(undefined, parents);
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
  readonly code = "RAFTLAB_DEADLINE";
  override readonly name = "DeadlineError";
  constructor(readonly delayMs: number) {
    super(`deadline of ${delayMs} ms passed`);
  }
}
