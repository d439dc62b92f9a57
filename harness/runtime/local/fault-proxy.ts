// A TCP proxy for one ordered node pair (source -> target): node `source` dials the proxy's port
// whenever it wants node `target`'s peer port, and the proxy forwards to the real port, applying the
// faults of both directions of the pair (see proxied-connection.ts for what each fault means).
// The local runtime makes one per ordered pair, so every byte between two nodes crosses a proxy.
import net from "node:net";
import { parseHostPort, type HostPort } from "../../../lib/host-port.js";
import { LinkFaults } from "./link-faults.js";
import { ProxiedConnection, type ProxyStats } from "./proxied-connection.js";

export interface FaultProxyOptions {
  source: number;
  target: number;
  /** host:port of the target node's real peer listener. */
  targetAddress: string;
  /** Faults on source -> target; a fresh LinkFaults when absent. */
  outbound?: LinkFaults;
  /** Faults on target -> source for bytes returning on connections source opened; fresh when absent. */
  inbound?: LinkFaults;
  /** For loss and jitter draws; seed it for reproducible runs. */
  random?: () => number;
}

export class FaultProxyError extends Error {
  readonly code = "FAULT_PROXY";
  override readonly name = "FaultProxyError";
}

export class FaultProxy {
  readonly source: number;
  readonly target: number;
  readonly outbound: LinkFaults;
  readonly inbound: LinkFaults;
  readonly stats: ProxyStats = { connectionsAccepted: 0, connectionsReset: 0, bytesForwarded: 0, bytesDropped: 0, retransmissions: 0 };
  readonly #server: net.Server;
  readonly #connections = new Set<ProxiedConnection>();
  readonly #unsubscribe: (() => void)[] = [];
  #port = 0;

  private constructor(options: FaultProxyOptions, server: net.Server) {
    this.source = options.source;
    this.target = options.target;
    this.outbound = options.outbound ?? new LinkFaults(options.source, options.target);
    this.inbound = options.inbound ?? new LinkFaults(options.target, options.source);
    if (this.outbound.source !== this.source || this.outbound.target !== this.target) {
      throw new FaultProxyError(`proxy ${this.source}->${this.target}: outbound faults are for ${this.outbound.source}->${this.outbound.target}`);
    }
    if (this.inbound.source !== this.target || this.inbound.target !== this.source) {
      throw new FaultProxyError(`proxy ${this.source}->${this.target}: inbound faults are for ${this.inbound.source}->${this.inbound.target}`);
    }
    this.#server = server;
    const restartTainted = { unblocked: () => this.#resetTainted() };
    this.#unsubscribe.push(this.outbound.subscribe(restartTainted), this.inbound.subscribe(restartTainted));
  }

  /** Listens on 127.0.0.1, port chosen by the OS. */
  static async start(options: FaultProxyOptions, signal?: AbortSignal): Promise<FaultProxy> {
    signal?.throwIfAborted();
    let upstream: HostPort;
    try {
      upstream = parseHostPort(options.targetAddress);
    } catch (error) {
      throw new FaultProxyError(`proxy ${options.source}->${options.target}: target address: ${(error as Error).message}`);
    }
    const { host: upstreamHost, port: upstreamPort } = upstream;
    const random = options.random ?? Math.random;
    const server = net.createServer();
    const proxy = new FaultProxy(options, server);
    server.on("connection", (downstream) => {
      proxy.stats.connectionsAccepted += 1;
      const connection = new ProxiedConnection({
        downstream,
        upstreamHost,
        upstreamPort,
        outbound: proxy.outbound,
        inbound: proxy.inbound,
        stats: proxy.stats,
        random,
        onClosed: (closed) => proxy.#connections.delete(closed),
      });
      proxy.#connections.add(connection);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    proxy.#port = (server.address() as net.AddressInfo).port;
    return proxy;
  }

  get port(): number {
    return this.#port;
  }

  /** Where node `source` should dial to reach node `target`. */
  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  get openConnections(): number {
    return this.#connections.size;
  }

  /** Drops (or stops dropping) what source sends to target. */
  setBlocked(blocked: boolean): void {
    this.outbound.setBlocked(blocked);
  }

  /** Per chunk from source to target, the chance that the connection is reset instead. */
  setLossProbability(probability: number): void {
    this.outbound.setLossProbability(probability);
  }

  /** Holds what source sends to target for delayMs (+ uniform jitter). */
  setDelay(delayMs: number, jitterMs = 0): void {
    this.outbound.setDelay(delayMs, jitterMs);
  }

  /** Clears the faults of both directions and closes every connection so framing restarts cleanly. */
  heal(): void {
    this.outbound.clear();
    this.inbound.clear();
    this.resetAll("healed");
  }

  /** Closes every proxied connection; the nodes reconnect. */
  resetAll(reason: string): void {
    for (const connection of [...this.#connections]) {
      connection.reset(reason);
    }
  }

  async close(): Promise<void> {
    for (const unsubscribe of this.#unsubscribe.splice(0)) {
      unsubscribe();
    }
    this.resetAll("proxy closed");
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #resetTainted(): void {
    for (const connection of [...this.#connections]) {
      if (connection.tainted) {
        connection.reset("link unblocked after dropping bytes");
      }
    }
  }
}
