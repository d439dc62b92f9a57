// One TCP connection through a fault proxy: the socket node `source` opened to the proxy
// (downstream) and the proxy's socket to node `target` (upstream). Each direction obeys its link's
// faults chunk by chunk:
// - blocked: the chunk is discarded and the connection stays open, as with an iptables DROP rule;
//   the receiver sees the stream stall. Bytes lost mid-stream break framing, so the connection is
//   marked tainted and closed when the link is unblocked, and the nodes reconnect cleanly.
// - loss: what packet loss does to a TCP stream. Each transmission of a chunk is lost with the
//   link's probability, and TCP sends it again after its retransmission timeout (200 ms, Linux's
//   floor, doubling with each consecutive loss, capped at 120 s), so the chunk arrives late, intact
//   and in order; the chunks behind it wait (head-of-line blocking). After 15 lost
//   retransmissions (tcp_retries2) TCP gives up and the connection is reset. When the loss is
//   cleared, a chunk still backing off arrives at its next scheduled retransmission.
// - delay: the chunk is held for delay + uniform jitter, never reordered within the stream.
// - throttle: the chunk is cut into packet-sized pieces that leave when the source node's token
//   bucket (token-bucket.ts, shared by all its links) allows, like tc's tbf on a NIC; the proxy
//   holds at most a socket buffer's worth, then stops reading so the sender feels back-pressure.
import net from "node:net";
import type { LinkFaults } from "./link-faults.js";
import type { TokenBucket } from "./token-bucket.js";

export interface ProxyStats {
  connectionsAccepted: number;
  /** Connections closed by the proxy: they lost bytes while blocked, or TCP gave up retransmitting. */
  connectionsReset: number;
  bytesForwarded: number;
  /** Bytes discarded on a blocked link. */
  bytesDropped: number;
  /** Transmissions lost to the link's loss probability (each one a retransmission timeout). */
  retransmissions: number;
}

/** Bytes a delayed direction may hold before it stops reading its source. */
const DELAYED_BYTES_MAX = 16 * 1024 * 1024;
/** Bytes a throttled direction may hold: about a socket buffer, so the sender blocks as on a slow NIC. */
const THROTTLED_BYTES_MAX = 64 * 1024;
/** Linux's TCP_RTO_MIN and TCP_RTO_MAX. */
const RTO_MIN_MS = 200;
const RTO_MAX_MS = 120_000;
/** Linux's tcp_retries2: retransmissions of one segment before the connection is given up. */
const RETRANSMISSIONS_MAX = 15;

/** When (ms after the first transmission) TCP sends a chunk for the `attempt`-th time, 0 being the first. */
export function retransmissionOffsetMs(attempt: number): number {
  let offset = 0;
  for (let retry = 0; retry < attempt; retry += 1) {
    offset += Math.min(RTO_MIN_MS * 2 ** retry, RTO_MAX_MS);
  }
  return offset;
}

interface HeldChunk {
  chunk: Buffer;
  /** When it would arrive with no loss (after delay, jitter and throttling). */
  arriveAt: number;
  /** Transmissions lost before the one that gets through. */
  losses: number;
  /** Every transmission is lost: the connection is reset at dueAt instead of delivering. */
  givesUp: boolean;
  dueAt: number;
}

class Direction {
  readonly #held: HeldChunk[] = [];
  #heldBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #sink: net.Socket | undefined;
  /** Chunks accepted before the sink connected (only while upstream is connecting). */
  readonly #early: Buffer[] = [];
  readonly #unsubscribe: () => void;

  constructor(
    readonly faults: LinkFaults,
    readonly source: net.Socket,
    readonly connection: ProxiedConnection,
  ) {
    this.#unsubscribe = faults.subscribe({ lossCleared: () => this.#lossCleared() });
  }

  attachSink(sink: net.Socket): void {
    this.#sink = sink;
    for (const chunk of this.#early.splice(0)) {
      this.#write(chunk);
    }
  }

  accept(chunk: Buffer): void {
    if (this.faults.blocked) {
      this.connection.stats.bytesDropped += chunk.length;
      this.connection.tainted = true;
      return;
    }
    const now = Date.now();
    const throttle = this.faults.throttle;
    for (const piece of throttle === undefined ? [chunk] : pieces(chunk, pieceBytes(throttle))) {
      const leaveAt = throttle?.reserve(piece.length, now) ?? now;
      const arriveAt = leaveAt + this.faults.delayMs + this.connection.random() * this.faults.jitterMs;
      const losses = this.#drawLosses();
      if (arriveAt <= now && losses === 0 && this.#held.length === 0) {
        this.#write(piece);
        continue;
      }
      const givesUp = losses > RETRANSMISSIONS_MAX;
      // Never reorder: a chunk is due no earlier than the one before it.
      const dueAt = Math.max(arriveAt + retransmissionOffsetMs(losses), this.#held.at(-1)?.dueAt ?? 0);
      this.#held.push({ chunk: piece, arriveAt, losses, givesUp, dueAt });
      this.#heldBytes += piece.length;
    }
    if (this.#heldBytes > (throttle === undefined ? DELAYED_BYTES_MAX : THROTTLED_BYTES_MAX)) {
      this.source.pause();
    }
    this.#schedule();
  }

  stop(): void {
    this.#unsubscribe();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#held.length = 0;
    this.#heldBytes = 0;
  }

  /** How many transmissions in a row are lost (RETRANSMISSIONS_MAX + 1 means all of them). */
  #drawLosses(): number {
    const probability = this.faults.lossProbability;
    let losses = 0;
    while (probability > 0 && losses <= RETRANSMISSIONS_MAX && this.connection.random() < probability) {
      losses += 1;
    }
    this.connection.stats.retransmissions += losses;
    return losses;
  }

  /** Retransmissions scheduled after now get through: each backing-off chunk arrives at its next one. */
  #lossCleared(): void {
    const now = Date.now();
    let previousDueAt = 0;
    for (const held of this.#held) {
      while (held.losses > 0 && held.arriveAt + retransmissionOffsetMs(held.losses - 1) >= now) {
        held.losses -= 1;
      }
      held.givesUp = held.losses > RETRANSMISSIONS_MAX;
      held.dueAt = Math.max(held.arriveAt + retransmissionOffsetMs(held.losses), previousDueAt);
      previousDueAt = held.dueAt;
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#schedule();
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
      const { chunk, givesUp } = this.#held.shift()!;
      if (givesUp) {
        this.connection.reset(`link ${this.faults.source}->${this.faults.target}: TCP gave up after ${RETRANSMISSIONS_MAX} retransmissions`);
        return;
      }
      this.#heldBytes -= chunk.length;
      this.#write(chunk);
    }
    if (this.#heldBytes <= this.#heldBytesMax() && this.source.isPaused()) {
      this.source.resume();
    }
    this.#schedule();
  }

  #heldBytesMax(): number {
    return this.faults.throttle === undefined ? DELAYED_BYTES_MAX : THROTTLED_BYTES_MAX;
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
        if (this.#heldBytes <= this.#heldBytesMax()) {
          this.source.resume();
        }
      });
    }
  }
}

/** Pieces small enough that a throttled link paces them as packets, not as one 64 KiB read. */
function pieceBytes(throttle: TokenBucket): number {
  return Math.max(1_500, Math.min(16 * 1024, throttle.burstBytes));
}

function pieces(chunk: Buffer, size: number): Buffer[] {
  const result: Buffer[] = [];
  for (let offset = 0; offset < chunk.length; offset += size) {
    result.push(chunk.subarray(offset, offset + size));
  }
  return result;
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
