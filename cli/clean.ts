// `raftlab clean`: removes leftover raftlab containers, networks and volumes (everything labelled
// raftlab.run), e.g. after a run was killed with SIGKILL. Prints each object it removes.
import Docker from "dockerode";
import { removeLeftovers } from "../harness/runtime/docker/leftovers.js";

const usage = `usage: raftlab clean [--run RUN_ID] [--images]

Removes every Docker container, network and volume labelled raftlab.run.
  --run RUN_ID   only that run's objects
  --images       also remove the cached raftlab-node images (rebuilt on the next run)
`;

export async function cleanCommand(argv: string[]): Promise<number> {
  let runId: string | undefined;
  let images = false;
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    if (argument === "--run" && argv[index + 1] !== undefined) {
      runId = argv[index + 1];
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
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (error) {
    // Without a daemon there can be no Docker leftovers that we could reach.
    process.stdout.write(`raftlab clean: no Docker daemon answers (${error instanceof Error ? error.message : String(error)}); nothing to clean\n`);
    return 0;
  }
  const report = await removeLeftovers(docker, {
    ...(runId === undefined ? {} : { runId }),
    images,
    onRemoved: (what) => process.stdout.write(`removed ${what}\n`),
  });
  const counted = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? "" : "s"}`;
  process.stdout.write(
    `raftlab clean: removed ${counted(report.containers.length, "container")}, ${counted(report.networks.length, "network")}, ` +
      `${counted(report.volumes.length, "volume")}${images ? `, ${counted(report.images.length, "image")}` : ""}\n`,
  );
  for (const failure of report.failures) {
    process.stderr.write(`raftlab clean: could not remove ${failure}\n`);
  }
  return report.failures.length === 0 ? 0 : 1;
}
