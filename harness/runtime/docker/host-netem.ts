// Whether the Docker host's kernel has the netem qdisc, asked before any container exists.
// Containers share the host's kernel, so adding netem in a throwaway network namespace on the host
// answers for them; the namespace dies with the probe, so no interface the host uses is touched.
// Where the probe cannot run (no unshare or tc, no right to make a namespace, or a daemon on
// another machine) the answer is "unknown", and the runtime probes inside a node instead
// (DockerNetworkControl.capabilities).
import { runHostCommand } from "../../../docker/image/host-command.js";

const probeCommand = ["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"];

/** true or false when the host answered; undefined when it could not be asked. */
export async function probeHostNetem(signal?: AbortSignal): Promise<boolean | undefined> {
  if (!daemonSharesOurKernel(process.env["DOCKER_HOST"])) {
    return undefined;
  }
  // As root a plain network namespace; otherwise a user namespace too (where the host allows them).
  const namespaceFlags = process.getuid?.() === 0 ? ["-n"] : ["-r", "-n"];
  try {
    const result = await runHostCommand("unshare", [...namespaceFlags, ...probeCommand], { signal });
    return netemProbeAnswer(result.exitCode, result.stderr);
  } catch (error) {
    signal?.throwIfAborted();
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return undefined; // no unshare on this host
    }
    throw error;
  }
}

/**
 * What the probe's exit says: true when tc added netem, false only when tc said the kernel has no
 * such qdisc, undefined for anything else (no right to make a namespace, no tc, ...).
 */
export function netemProbeAnswer(exitCode: number | null, stderr: string): boolean | undefined {
  if (exitCode === 0) {
    return true;
  }
  return /qdisc kind is unknown|unknown qdisc/i.test(stderr) ? false : undefined;
}

/** A daemon reached over a Unix socket (the default) runs on this machine's kernel; a TCP one may not. */
export function daemonSharesOurKernel(dockerHost: string | undefined): boolean {
  return dockerHost === undefined || dockerHost === "" || dockerHost.startsWith("unix://");
}
