// Port helpers for the local runtime: the OS picks free ports; nodes are then told to use them.
import net from "node:net";
import { sleep } from "../../../lib/deadline.js";

/**
 * Asks the OS for `count` distinct free loopback ports (listening on port 0, then closing). Another
 * process could take a port before the node binds it; the node then fails to start and says so.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
      });
    }
    // Held open until all are chosen, so the OS cannot hand out the same port twice.
    return servers.map((server) => (server.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

/** Resolves once something accepts TCP connections at host:port; rejects when `signal` fires. */
export async function waitForListener(host: string, port: number, signal: AbortSignal, pollMs = 50): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      const done = (result: boolean): void => {
        socket.destroy();
        resolve(result);
      };
      socket.once("connect", () => done(true));
      socket.once("error", () => done(false));
    });
    if (accepted) {
      return;
    }
    // Aborting ends the wait early; the loop head then throws.
    await sleep(pollMs, signal).catch(() => undefined);
  }
}
