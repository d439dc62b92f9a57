// The signals that end a run or a comparison: Ctrl-C, kill, and a closed terminal. Each one must
// tear the cluster down first, so every command that starts clusters listens to the same list.
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
