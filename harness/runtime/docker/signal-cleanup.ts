// Removes a run's containers, services, networks and volumes when the harness is interrupted
// (Ctrl-C, SIGTERM from CI, SIGHUP when its terminal closes), so an interrupted run leaves nothing behind. `raftlab clean` covers the rest
// (SIGKILL, power loss).

type Cleanup = () => Promise<void>;

const cleanups = new Set<Cleanup>();
import { constants } from "node:os";

const handledSignals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
/** Cleaning up after a signal may take this long before the process exits anyway. */
const cleanupTimeLimitMs = 30_000;
let installed = false;
let cleaning = false;

/**
 * Runs `cleanup` if the process receives SIGINT, SIGTERM or SIGHUP before the returned function is called.
 * When no other listener handles the signal, the process then exits with 128 + the signal number;
 * when another listener exists (say, a run command saving partial results), that listener decides.
 */
export function registerCleanup(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  if (!installed) {
    installed = true;
    for (const signal of handledSignals) {
      process.on(signal, onSignal);
    }
  }
  return () => {
    cleanups.delete(cleanup);
    if (cleanups.size === 0 && installed && !cleaning) {
      // Nothing left to clean: give the signals back their default behaviour.
      installed = false;
      for (const signal of handledSignals) {
        process.off(signal, onSignal);
      }
    }
  };
}

/**
 * Runs every registered cleanup now (each cluster's destroy, including one still being created)
 * and waits for them, for a caller with its own signal handler that is about to exit.
 */
export async function runRegisteredCleanups(): Promise<void> {
  await Promise.allSettled([...cleanups].map((cleanup) => cleanup()));
}

function onSignal(signal: NodeJS.Signals): void {
  const exitCode = 128 + constants.signals[signal];
  if (cleaning) {
    // A second Ctrl-C: stop waiting.
    process.exit(exitCode);
  }
  cleaning = true;
  process.stderr.write(`raftlab: ${signal}: removing this run's containers, services, networks and volumes\n`);
  const othersHandle = process.listenerCount(signal) > 1;
  const all = Promise.allSettled([...cleanups].map((cleanup) => cleanup()));
  const limit = new Promise<void>((resolve) => setTimeout(resolve, cleanupTimeLimitMs).unref());
  void Promise.race([all, limit]).then(() => {
    cleaning = false;
    if (!othersHandle) {
      process.exit(exitCode);
    }
  });
}
