// The signals that end a run or a comparison: Ctrl-C, kill, and a closed terminal. Each one must
// tear the cluster down first, so every command that starts clusters listens to the same list.
import { setMaxListeners } from "node:events";
import type { Cluster } from "../harness/runtime/runtime.js";

export const endingSignals: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** Calls `onSignal` once on the first ending signal; returns the function that stops listening. */
export function onEndingSignal(onSignal: (signal: NodeJS.Signals) => void): () => void {
  for (const signal of endingSignals) {
    process.once(signal, onSignal);
  }
  return () => {
    for (const signal of endingSignals) {
      process.off(signal, onSignal);
    }
  };
}

/**
 * What run and compare do on an ending signal: abort the run, destroy its cluster and every cluster
 * the runtime is still creating, then exit 255. `stop()` stops listening once the command is done.
 */
export class RunInterrupt {
  private readonly controller = new AbortController();
  /** The cluster of the current run, if any. */
  cluster: Cluster | undefined;
  /** Destroys every cluster of the chosen runtime, including one still being created. */
  destroyAllClusters: () => Promise<void> = async () => undefined;
  readonly stop: () => void;

  constructor(log: (line: string) => void) {
    // Every worker's per-operation deadline listens to the signal: more than Node's default of 10 listeners.
    setMaxListeners(0, this.controller.signal);
    this.stop = onEndingSignal((signal) => {
      log(`${signal}: stopping, destroying the cluster`);
      this.controller.abort(new Error(`interrupted by ${signal}`));
      void Promise.allSettled([this.cluster?.destroy(), this.destroyAllClusters()]).finally(() => process.exit(255));
    });
  }

  /** Aborted on the first ending signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }
}
