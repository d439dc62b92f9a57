// docker, local, swarm, or auto (Docker when a daemon answers, else local processes): shared by
// `run` and `compare`, loaded lazily so a local run never loads Docker's client.
import type { Runtime } from "../harness/runtime/runtime.js";
import type { SwarmPlan } from "../harness/workload/plan.js";
import type { RuntimeChoice } from "../harness/workload/schema.js";

export interface ChosenRuntime {
  runtime: Runtime;
  /** Destroys every cluster this process made with the runtime, for the signal handler. */
  destroyAll: () => Promise<void>;
}

/** `swarm`: the workload's swarm settings (placement, hosts file, image); none means the defaults. */
export async function chooseRuntime(choice: RuntimeChoice, log: (line: string) => void, signal: AbortSignal, swarm?: SwarmPlan): Promise<ChosenRuntime> {
  const local = async (): Promise<ChosenRuntime> => {
    const { LocalRuntime, destroyAllLocalClusters } = await import("../harness/runtime/local/local-runtime.js");
    return { runtime: new LocalRuntime(), destroyAll: destroyAllLocalClusters };
  };
  if (choice === "local") {
    return local();
  }
  if (choice === "swarm") {
    const { SwarmRuntime } = await import("../harness/runtime/swarm/swarm-runtime.js");
    const { runRegisteredCleanups } = await import("../harness/runtime/docker/signal-cleanup.js");
    const runtime = new SwarmRuntime({ log, hostsFile: swarm?.hostsFile, hosts: swarm?.hosts, nodesPerHost: swarm?.nodesPerHost, image: swarm?.image });
    if (!(await runtime.available(signal))) {
      throw new Error("the swarm runtime was asked for, but no Docker daemon answers (start dockerd and `docker swarm init`, or set DOCKER_HOST to a manager)");
    }
    return { runtime, destroyAll: runRegisteredCleanups };
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
