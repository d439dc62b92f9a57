// Port helpers for the local runtime: free ports are chosen here; nodes are then told to use them.
import net from "node:net";
import { readFileSync } from "node:fs";
import { sleep } from "../../../lib/deadline.js";

/** The lowest port handed out below the ephemeral range (above the usual fixed service ports). */
const LOW_PORT = 10_000;
const ATTEMPTS_PER_PORT = 50;

/**
 * Asks for `count` distinct free loopback ports, held open until all are chosen so none is handed
 * out twice. They are drawn below the kernel's ephemeral range (ip_local_port_range), where the
 * kernel never picks on its own: a node restarted after a kill binds its ports again, and a port
 * from the ephemeral range may meanwhile have gone to an outgoing connection or to a fault proxy
 * listening on port 0 (it happened: a proxy took a killed node's client port, and the node could
 * not start again). Falls back to the OS's choice (port 0) when that range is too small. Another
 * process could still take a port before the node binds it; the node then fails to start and says so.
 */
export async function freePorts(count: number, random: () => number = Math.random): Promise<number[]> {
  const servers: net.Server[] = [];
  const [ephemeralLow] = ephemeralPortRange();
  try {
    for (let i = 0; i < count; i++) {
      let server: net.Server | undefined;
      for (let attempt = 0; server === undefined && attempt < ATTEMPTS_PER_PORT && ephemeralLow - LOW_PORT >= 1000; attempt++) {
        const port = LOW_PORT + Math.floor(random() * (ephemeralLow - LOW_PORT));
        server = await listenOn(port).catch(() => undefined);
      }
      server ??= await listenOn(0);
      servers.push(server);
    }
    return servers.map((server) => (server.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

async function listenOn(port: number): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => resolve());
  });
  return server;
}

/** The kernel's ephemeral port range; Linux's default when it cannot be read. */
export function ephemeralPortRange(): [number, number] {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (Number.isSafeInteger(low) && Number.isSafeInteger(high)) {
      return [low!, high!];
    }
  } catch {
    // not Linux, or no /proc: assume the default
  }
  return [32_768, 60_999];
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
