// `raftlab clean`: removes what runs left behind, e.g. after one was killed with SIGKILL: local
// node processes orphaned by their harness and local runs' data directories, then Docker services,
// containers, networks and volumes labelled raftlab.run, on this daemon and on every host of a
// swarm hosts file. Prints each object it removes.
import Docker from "dockerode";
import { removeLeftovers, type LeftoverReport } from "../harness/runtime/docker/leftovers.js";
import { removeLocalLeftovers } from "../harness/runtime/local/leftovers.js";
import { connectHost, hostsFileDirectory, readHostsFile } from "../harness/runtime/swarm/hosts-file.js";
import { removeRunObjects } from "../harness/runtime/swarm/swarm-leftovers.js";
import { WorkloadFileError } from "../harness/workload/errors.js";

const usage = `usage: raftlab clean [--run RUN_ID] [--images] [--hosts FILE]

Removes what raftlab runs left behind:
  local runtime  node processes whose harness is gone (adopted by init) and the data directories
                 <tmp>/raftlab-<run id> of runs no longer in progress
  Docker, swarm  every service, container, network and volume labelled raftlab.run
  --run RUN_ID   only that run's objects (its local nodes even if its harness still runs)
  --images       also remove the cached raftlab-node images (rebuilt on the next run)
  --hosts FILE   a swarm hosts file: clean every host in it too (default: $RAFTLAB_SWARM_HOSTS)
`;

export async function cleanCommand(argv: string[]): Promise<number> {
  let runId: string | undefined;
  let images = false;
  let hostsFile = process.env["RAFTLAB_SWARM_HOSTS"] || undefined;
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    if (argument === "--run" && argv[index + 1] !== undefined) {
      runId = argv[index + 1];
      index += 1;
    } else if (argument === "--hosts" && argv[index + 1] !== undefined) {
      hostsFile = argv[index + 1];
      index += 1;
    } else if (argument === "--images") {
      images = true;
    } else if (argument === "--help" || argument === "-h") {
      process.stdout.write(usage);
      return 0;
    } else {
      process.stderr.write(`raftlab clean: unexpected argument "${argument ?? ""}"\n${usage}`);
      return 254;
    }
  }
  const counted = (count: number, noun: string, plural = `${noun}s`): string => `${count} ${count === 1 ? noun : plural}`;
  const local = await removeLocalLeftovers({
    ...(runId === undefined ? {} : { runId }),
    onRemoved: (what) => process.stdout.write(`removed ${what}\n`),
  });
  if (local.processes.length + local.directories.length > 0) {
    process.stdout.write(
      `raftlab clean: local: stopped ${counted(local.processes.length, "node process", "node processes")}, ` +
        `removed ${counted(local.directories.length, "data directory", "data directories")}\n`,
    );
  }
  for (const failure of local.failures) {
    process.stderr.write(`raftlab clean: could not remove ${failure}\n`);
  }
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (error) {
    // Without a daemon there can be no Docker leftovers that we could reach.
    process.stdout.write(`raftlab clean: no Docker daemon answers (${error instanceof Error ? error.message : String(error)}); nothing to clean there\n`);
    return local.failures.length === 0 ? 0 : 1;
  }
  const onRemoved = (what: string): void => {
    process.stdout.write(`removed ${what}\n`);
  };
  let report: LeftoverReport;
  if (hostsFile === undefined) {
    report = await removeLeftovers(docker, { ...(runId === undefined ? {} : { runId }), images, onRemoved });
  } else {
    let hosts: { name: string; docker: Docker }[];
    try {
      const file = await readHostsFile(hostsFile);
      hosts = [...file.hosts].map(([name, entry]) => ({ name, docker: connectHost(entry, hostsFileDirectory(file.file), file.file).docker }));
    } catch (error) {
      if (error instanceof WorkloadFileError) {
        process.stderr.write(`${error.message}\n`);
        return 254;
      }
      throw error;
    }
    report = await removeRunObjects({ manager: docker, hosts, runId, onRemoved });
    if (images) {
      const imageReport = await removeLeftovers(docker, { ...(runId === undefined ? {} : { runId }), kinds: [], images, onRemoved });
      report.images.push(...imageReport.images);
      report.failures.push(...imageReport.failures);
    }
  }
  process.stdout.write(
    `raftlab clean: removed ${report.services.length > 0 ? `${counted(report.services.length, "service")}, ` : ""}` +
      `${report.secrets.length > 0 ? `${counted(report.secrets.length, "secret")}, ` : ""}` +
      `${counted(report.containers.length, "container")}, ${counted(report.networks.length, "network")}, ` +
      `${counted(report.volumes.length, "volume")}${images ? `, ${counted(report.images.length, "image")}` : ""}\n`,
  );
  for (const failure of report.failures) {
    process.stderr.write(`raftlab clean: could not remove ${failure}\n`);
  }
  return report.failures.length + local.failures.length === 0 ? 0 : 1;
}
