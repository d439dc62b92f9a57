// Polls a condition until it holds or the signal aborts (tests only: real waits take a signal).
import { sleep } from "../../lib/deadline.js";

export async function waitUntil(condition: () => boolean, signal: AbortSignal, what: string): Promise<void> {
  while (!condition()) {
    if (signal.aborted) {
      throw new Error(`gave up waiting for ${what}: ${String(signal.reason)}`);
    }
    await sleep(5);
  }
}
