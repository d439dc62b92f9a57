// Removes a swarm run's objects (or every run's, for `raftlab clean`) across all hosts, in the order
// their dependencies allow: the services and their secret (through the manager), the task containers on every host
// (force: a swarm agent removes them only in its own time), the overlay networks (through the
// manager), then each host's volumes.
import type Docker from "dockerode";
import { removeLeftovers, type LeftoverKind, type LeftoverReport } from "../docker/leftovers.js";

export interface RunObjectsOptions {
  manager: Docker;
  /** Every host that may hold containers or volumes of the run(s). */
  hosts: readonly { name: string; docker: Docker }[];
  /** Only this run's objects (default: every run's). */
  runId?: string | undefined;
  onRemoved?: (what: string) => void;
}

export async function removeRunObjects(options: RunObjectsOptions): Promise<LeftoverReport> {
  const report: LeftoverReport = { services: [], secrets: [], containers: [], networks: [], volumes: [], images: [], failures: [] };
  const step = async (docker: Docker, kinds: readonly LeftoverKind[], where?: string): Promise<void> => {
    const part = await removeLeftovers(docker, {
      runId: options.runId,
      kinds,
      onRemoved: (what) => options.onRemoved?.(where === undefined ? what : `${what} on ${where}`),
    });
    for (const key of Object.keys(report) as (keyof LeftoverReport)[]) {
      report[key].push(...part[key].map((name) => (where === undefined || key === "failures" ? name : `${name} (${where})`)));
    }
  };
  await step(options.manager, ["services", "secrets"]);
  for (const host of options.hosts) {
    await step(host.docker, ["containers"], host.name);
  }
  await step(options.manager, ["containers", "networks"]);
  for (const host of options.hosts) {
    await step(host.docker, ["volumes"], host.name);
  }
  return report;
}
