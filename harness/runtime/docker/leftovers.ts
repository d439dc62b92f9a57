// Finds and removes what raftlab left in Docker: containers, networks and volumes labelled
// raftlab.run (a run killed with SIGKILL, or a crashed harness), and optionally the cached images.
import type Docker from "dockerode";
import { tolerate } from "./docker-cluster.js";
import { nodeImageRepository } from "../../../docker/image/image.js";
import { runLabel } from "./labels.js";

export interface LeftoverOptions {
  /** Only this run's objects (default: every run's). */
  runId?: string;
  /** Also remove raftlab-node images (they are a cache: the next run rebuilds one). */
  images?: boolean;
  /** Called with "container raftlab-x-n1" and the like as each object goes. */
  onRemoved?: (what: string) => void;
}

export interface LeftoverReport {
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
  const report: LeftoverReport = { containers: [], networks: [], volumes: [], images: [], failures: [] };
  const remove = async (kind: keyof Omit<LeftoverReport, "failures">, name: string, work: () => Promise<unknown>): Promise<void> => {
    try {
      await tolerate(work(), [404]);
      report[kind].push(name);
      options.onRemoved?.(`${kind.slice(0, -1)} ${name}`);
    } catch (error) {
      report.failures.push(`${kind.slice(0, -1)} ${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  // Containers first: a network or volume in use by one cannot be removed.
  for (const container of await docker.listContainers({ all: true, filters })) {
    const name = (container.Names[0] ?? container.Id).replace(/^\//, "");
    await remove("containers", name, () => docker.getContainer(container.Id).remove({ force: true, v: true }));
  }
  for (const network of await docker.listNetworks({ filters })) {
    await remove("networks", network.Name, () => docker.getNetwork(network.Id).remove());
  }
  for (const volume of (await docker.listVolumes({ filters })).Volumes ?? []) {
    await remove("volumes", volume.Name, () => docker.getVolume(volume.Name).remove());
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
