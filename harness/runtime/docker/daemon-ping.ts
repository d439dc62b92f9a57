// Whether a Docker daemon answers, for the runtimes' available(): the Docker runtime's daemon and
// the swarm runtime's manager.
import type Docker from "dockerode";

/** A daemon that accepts the connection but hangs counts as unavailable after this long. */
const pingTimeoutMs = 5_000;

/** True when `docker` answers a ping within pingTimeoutMs (and before `signal` aborts). */
export async function daemonAnswers(docker: Docker, signal?: AbortSignal): Promise<boolean> {
  try {
    signal?.throwIfAborted();
    const deadline = AbortSignal.timeout(pingTimeoutMs);
    const abortSignal = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
    // dockerode's ping takes an abortSignal option that its type declarations omit.
    const ping = docker.ping.bind(docker) as unknown as (options: { abortSignal: AbortSignal }) => Promise<unknown>;
    await ping({ abortSignal });
    return true;
  } catch {
    return false;
  }
}
