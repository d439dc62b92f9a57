// docker, local, or auto (Docker when a daemon answers, else local processes): shared by `run`
// and `compare`, loaded lazily so a local run never loads Docker's client.
import type { Runtime } from "../harness/runtime/runtime.js";
import type { RuntimeChoice } from "../harness/workload/schema.js";

export interface ChosenRuntime {
  runtime: Runtime;
  /** Destroys every cluster this process made with the runtime, for the signal handler. */
  destroyAll: () => Promise<void>;
}

export async function chooseRuntime(choice: RuntimeChoice, log: (line: string) => void, signal: AbortSignal): Promise<ChosenRuntime> {
  const local = async (): Promise<ChosenRuntime> => {
    const { LocalRuntime, destroyAllLocalClusters } = await import("../harness/runtime/local/local-runtime.js");
    return { runtime: new LocalRuntime(), destroyAll: destroyAllLocalClusters };
  };
  if (choice === "local") {
    return local();
  }
  const { DockerRuntime } = await import("../harness/runtime/docker/docker-runtime.js");
  const docker = new DockerRuntime({ log });
  if (await docker.available(signal)) {
    const { runRegisteredCleanups } = await import("../harness/runtime/docker/signal-cleanup.js");
    return { runtime: docker, destroyAll: runRegisteredCleanups };
  }
  if (choice === "docker") {
    throw new Error("the docker runtime was asked for, but no Docker daemon answers (start dockerd, or use --runtime local)");
  }
  log("no Docker daemon answers: using the local runtime");
  return local();
}
