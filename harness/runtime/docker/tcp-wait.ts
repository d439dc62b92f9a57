// Waits until a TCP port accepts connections, for node readiness.
import { connect } from "node:net";
import { parseHostPort } from "../../../lib/host-port.js";
import { sleep } from "../../../lib/deadline.js";

const attemptTimeoutMs = 1_000;
const retryIntervalMs = 100;

/** One connection attempt: true when the port accepted, false on refusal, reset or timeout. */
export function tcpAccepts(host: string, port: number, timeoutMs = attemptTimeoutMs): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (accepted: boolean): void => {
      socket.destroy();
      resolve(accepted);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

/**
 * Retries until `address` ("host:port") accepts, `deadlineMs` (a Date.now() value) passes (returns
 * false), or `signal` aborts (throws). `stillWorthWaiting` is asked between attempts; when it says
 * no (the container exited) the wait ends with false at once.
 */
export async function waitForTcp(
  address: string,
  deadlineMs: number,
  signal: AbortSignal | undefined,
  stillWorthWaiting: () => Promise<boolean>,
): Promise<boolean> {
  const { host, port } = parseHostPort(address);
  for (;;) {
    signal?.throwIfAborted();
    if (await tcpAccepts(host, port)) {
      return true;
    }
    if (Date.now() >= deadlineMs || !(await stillWorthWaiting())) {
      return false;
    }
    await sleep(retryIntervalMs, signal);
  }
}
