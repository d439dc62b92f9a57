// Finds and removes what raftlab left in Docker: swarm services (on a manager), containers, networks
// and volumes labelled raftlab.run (a run killed with SIGKILL, or a crashed harness), and optionally
// the cached images.
import type Docker from "dockerode";
import { sleep } from "../../../lib/deadline.js";
import { tolerate } from "./docker-cluster.js";
import { nodeImageRepository } from "../../../docker/image/image.js";
import { runLabel } from "./labels.js";

/**
 * What removeLeftovers removes, in this order (a service holds containers and its secret; containers
 * hold networks and volumes).
 */
export const leftoverKinds = ["services", "secrets", "containers", "networks", "volumes"] as const;
export type LeftoverKind = (typeof leftoverKinds)[number];

export interface LeftoverOptions {
  /** Only this run's objects (default: every run's). */
  runId?: string | undefined;
  /** Only these kinds (default: all), e.g. containers on every swarm host before the networks. */
  kinds?: readonly LeftoverKind[];
  /** Also remove raftlab-node images (they are a cache: the next run rebuilds one). */
  images?: boolean;
  /** Called with "container raftlab-x-n1" and the like as each object goes. */
  onRemoved?: (what: string) => void;
}

export interface LeftoverReport {
  services: string[];
  /** Swarm secrets (the cluster secret a swarm run hands its services). */
  secrets: string[];
  containers: string[];
  networks: string[];
  volumes: string[];
  images: string[];
  /** Objects that could not be removed, with the daemon's reason (e.g. an image still in use). */
  failures: string[];
}

export async function removeLeftovers(docker: Docker, options: LeftoverOptions = {}): Promise<LeftoverReport> {
  const label = options.runId === undefined ? runLabel : `${runLabel}=${options.runId}`;
  const filters = JSON.stringify({ label: [label] });
  const report: LeftoverReport = { services: [], secrets: [], containers: [], networks: [], volumes: [], images: [], failures: [] };
  const kinds = new Set(options.kinds ?? leftoverKinds);
  const remove = async (kind: keyof Omit<LeftoverReport, "failures">, name: string, work: () => Promise<unknown>): Promise<void> => {
    try {
      await tolerate(work(), [404]);
      report[kind].push(name);
      options.onRemoved?.(`${kind.slice(0, -1)} ${name}`);
    } catch (error) {
      report.failures.push(`${kind.slice(0, -1)} ${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  if (kinds.has("services")) {
    // Only a swarm manager lists services; any other daemon has none of raftlab's.
    for (const service of await docker.listServices({ filters }).catch(() => [])) {
      await remove("services", service.Spec?.Name ?? service.ID, () => docker.getService(service.ID).remove());
    }
  }
  if (kinds.has("secrets")) {
    // Likewise only a manager holds secrets; one still used by a service cannot go, so after them.
    for (const secret of await docker.listSecrets({ filters }).catch(() => [])) {
      await remove("secrets", secret.Spec?.Name ?? secret.ID, () => docker.getSecret(secret.ID).remove());
    }
  }
  // Containers first: a network or volume in use by one cannot be removed.
  if (kinds.has("containers")) {
    for (const container of await docker.listContainers({ all: true, filters })) {
      const name = (container.Names[0] ?? container.Id).replace(/^\//, "");
      await remove("containers", name, () => docker.getContainer(container.Id).remove({ force: true, v: true }));
    }
  }
  if (kinds.has("networks")) {
    for (const network of await docker.listNetworks({ filters })) {
      await remove("networks", network.Name, async () => {
        await whileInUse(() => docker.getNetwork(network.Id).remove());
        await untilGone(() => docker.getNetwork(network.Id).inspect());
      });
    }
  }
  if (kinds.has("volumes")) {
    for (const volume of (await docker.listVolumes({ filters })).Volumes ?? []) {
      await remove("volumes", volume.Name, () => whileInUse(() => docker.getVolume(volume.Name).remove()));
    }
  }
  if (options.images === true) {
    const images = await docker.listImages({ filters: JSON.stringify({ reference: [nodeImageRepository] }) });
    for (const image of images) {
      for (const tag of image.RepoTags ?? []) {
        await remove("images", tag, () => docker.getImage(tag).remove());
      }
    }
  }
  return report;
}

/** How long a network or volume may stay "in use" after its containers went (a swarm agent tears a task down asynchronously). */
const inUseWaitMs = 15_000;

async function whileInUse(work: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + inUseWaitMs;
  for (;;) {
    try {
      await work();
      return;
    } catch (error) {
      const status = (error as { statusCode?: unknown }).statusCode;
      const inUse = status === 409 || /in use|active endpoints/i.test(error instanceof Error ? error.message : String(error));
      if (!inUse || Date.now() > deadline) {
        throw error;
      }
      await sleep(250);
    }
  }
}

/**
 * Waits until `inspect` answers 404: a swarm manager accepts the removal of an overlay network at
 * once but lists it until every host let go of it, and "removed" must mean gone.
 */
async function untilGone(inspect: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + inUseWaitMs;
  for (;;) {
    try {
      await inspect();
    } catch (error) {
      if ((error as { statusCode?: unknown }).statusCode === 404) {
        return;
      }
      throw error;
    }
    if (Date.now() > deadline) {
      throw new Error(`still listed ${inUseWaitMs} ms after its removal was accepted`);
    }
    await sleep(250);
  }
}
