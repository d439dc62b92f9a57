// Small helpers so that every wait in the client honours an AbortSignal and a time limit.
import { AbortedError } from "./errors.js";

/** Resolves after `delayMs`, or rejects with AbortedError when `signal` fires first. */
export function sleep(delayMs: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new AbortedError("sleep", false));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError("sleep", false));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, delayMs));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A signal that aborts after `delayMs` or when `parent` aborts; call dispose when done. Not
 * AbortSignal.any([AbortSignal.timeout(ms), parent]): on Node 20 the combined signal holds its
 * sources weakly, so the timeout signal can be garbage-collected and never fire.
 */
export function deadlineSignal(delayMs: number, parent: AbortSignal | undefined): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`deadline of ${delayMs} ms passed`)), Math.max(0, delayMs));
  const onParentAbort = (): void => controller.abort(parent?.reason);
  if (parent?.aborted === true) {
    controller.abort(parent.reason);
  } else {
    parent?.addEventListener("abort", onParentAbort, { once: true });
  }
  const dispose = (): void => {
    clearTimeout(timer);
    parent?.removeEventListener("abort", onParentAbort);
  };
  controller.signal.addEventListener("abort", dispose, { once: true });
  return { signal: controller.signal, dispose };
}
