// One TCP connection through a fault proxy: the socket node `source` opened to the proxy
// (downstream) and the proxy's socket to node `target` (upstream). Each direction obeys its link's
// faults chunk by chunk:
// - blocked: the chunk is discarded and the connection stays open, as with an iptables DROP rule;
//   the receiver sees the stream stall. Bytes lost mid-stream break framing, so the connection is
//   marked tainted and closed when the link is unblocked, and the nodes reconnect cleanly.
// - loss: with the link's probability per chunk the whole connection is reset. Dropping bytes inside
//   a TCP stream would corrupt framing rather than model loss, so packet loss is approximated by
//   connection resets (which TCP retransmission would otherwise hide anyway).
// - delay: the chunk is held for delay + uniform jitter, never reordered within the stream.
import net from "node:net";
import type { LinkFaults } from "./link-faults.js";

export interface ProxyStats {
  connectionsAccepted: number;
  /** Connections closed by the proxy because of loss or because they lost bytes while blocked. */
  connectionsReset: number;
  bytesForwarded: number;
  bytesDropped: number;
}

/** Bytes a delayed direction may hold before it stops reading its source. */
const DELAYED_BYTES_MAX = 16 * 1024 * 1024;

interface HeldChunk {
  chunk: Buffer;
  dueAt: number;
}

class Direction {
  readonly #held: HeldChunk[] = [];
  #heldBytes = 0;
  #lastDueAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #sink: net.Socket | undefined;
  /** Chunks accepted before the sink connected (only while upstream is connecting). */
  readonly #early: Buffer[] = [];

  constructor(
    readonly faults: LinkFaults,
    readonly source: net.Socket,
    readonly connection: ProxiedConnection,
  ) {}

  attachSink(sink: net.Socket): void {
    this.#sink = sink;
    for (const chunk of this.#early.splice(0)) {
      this.#write(chunk);
    }
  }

  accept(chunk: Buffer): void {
    const stats = this.connection.stats;
    if (this.faults.blocked) {
      stats.bytesDropped += chunk.length;
      this.connection.tainted = true;
      return;
    }
    if (this.faults.lossProbability > 0 && this.connection.random() < this.faults.lossProbability) {
      stats.bytesDropped += chunk.length;
      this.connection.reset(`loss on link ${this.faults.source}->${this.faults.target}`);
      return;
    }
    const delayMs = this.faults.delayMs + this.connection.random() * this.faults.jitterMs;
    if (delayMs <= 0 && this.#held.length === 0) {
      this.#write(chunk);
      return;
    }
    // Never reorder: a chunk is due no earlier than the one before it.
    const dueAt = Math.max(Date.now() + delayMs, this.#lastDueAt);
    this.#lastDueAt = dueAt;
    this.#held.push({ chunk, dueAt });
    this.#heldBytes += chunk.length;
    if (this.#heldBytes > DELAYED_BYTES_MAX) {
      this.source.pause();
    }
    this.#schedule();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#held.length = 0;
    this.#heldBytes = 0;
  }

  #schedule(): void {
    if (this.#timer !== undefined) {
      return;
    }
    const head = this.#held[0];
    if (head === undefined) {
      return;
    }
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#release();
      },
      Math.max(0, head.dueAt - Date.now()),
    );
  }

  #release(): void {
    const now = Date.now();
    while (this.#held.length > 0 && this.#held[0]!.dueAt <= now) {
      const { chunk } = this.#held.shift()!;
      this.#heldBytes -= chunk.length;
      this.#write(chunk);
    }
    if (this.#heldBytes <= DELAYED_BYTES_MAX && this.source.isPaused()) {
      this.source.resume();
    }
    this.#schedule();
  }

  #write(chunk: Buffer): void {
    const sink = this.#sink;
    if (sink === undefined) {
      this.#early.push(chunk);
      return;
    }
    if (sink.destroyed) {
      return;
    }
    this.connection.stats.bytesForwarded += chunk.length;
    if (!sink.write(chunk)) {
      this.source.pause();
      sink.once("drain", () => {
        if (this.#heldBytes <= DELAYED_BYTES_MAX) {
          this.source.resume();
        }
      });
    }
  }
}

export interface ProxiedConnectionOptions {
  downstream: net.Socket;
  upstreamHost: string;
  upstreamPort: number;
  /** Faults on source -> target (bytes the dialling node sends). */
  outbound: LinkFaults;
  /** Faults on target -> source (bytes coming back on this connection). */
  inbound: LinkFaults;
  stats: ProxyStats;
  random: () => number;
  onClosed: (connection: ProxiedConnection) => void;
}

export class ProxiedConnection {
  /** Set once bytes were discarded (or the upstream was never dialled because the link was blocked). */
  tainted = false;
  readonly stats: ProxyStats;
  readonly random: () => number;
  readonly #downstream: net.Socket;
  #upstream: net.Socket | undefined;
  readonly #outbound: Direction;
  #inbound: Direction | undefined;
  readonly #options: ProxiedConnectionOptions;
  #closed = false;

  constructor(options: ProxiedConnectionOptions) {
    this.#options = options;
    this.stats = options.stats;
    this.random = options.random;
    this.#downstream = options.downstream;
    this.#downstream.setNoDelay(true);
    this.#outbound = new Direction(options.outbound, this.#downstream, this);
    this.#downstream.on("data", (chunk: Buffer) => this.#outbound.accept(chunk));
    this.#downstream.on("error", () => undefined);
    this.#downstream.on("close", () => this.#close());
    if (options.outbound.blocked) {
      // Like a SYN dropped by iptables: the connection to the target never completes while blocked.
      this.tainted = true;
      return;
    }
    this.#dial();
  }

  /** Closes both sockets at once (the nodes see a reset connection). */
  reset(reason: string): void {
    if (this.#closed) {
      return;
    }
    this.stats.connectionsReset += 1;
    this.#downstream.destroy(new Error(reason));
    this.#upstream?.destroy(new Error(reason));
  }

  #dial(): void {
    const upstream = net.connect({ host: this.#options.upstreamHost, port: this.#options.upstreamPort });
    this.#upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on("error", () => undefined);
    upstream.on("close", () => this.#close());
    upstream.once("connect", () => {
      const inbound = new Direction(this.#options.inbound, upstream, this);
      inbound.attachSink(this.#downstream);
      this.#inbound = inbound;
      upstream.on("data", (chunk: Buffer) => inbound.accept(chunk));
      this.#outbound.attachSink(upstream);
    });
  }

  #close(): void {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    this.#outbound.stop();
    this.#inbound?.stop();
    this.#downstream.destroy();
    this.#upstream?.destroy();
    this.#options.onClosed(this);
  }
}
