// The accepting side of the peer transport (tcp-transport.ts): admission of inbound connections
// against the connection limits and descriptor budget, the handshake, and reading their frames.
import type net from "node:net";
import type { Message, NodeId } from "../../raft/messages.js";
import { CodecError } from "../../../lib/binary-cursor.js";
import { FrameDecoder, FrameError } from "./frame-codec.js";
import { decodeMessage } from "./message-codec.js";
import { HANDSHAKE_FRAME_BYTES_MAX } from "./peer-handshake.js";
import { decodeSnapshotChunk, isSnapshotChunkPayload } from "./snapshot-chunk-codec.js";
import { SnapshotReceiver } from "./snapshot-receiver.js";
import { acceptorHandshakeStep, type AcceptorHandshakeContext, type InboundConnection } from "./inbound-handshake.js";
import { RateLimitedLog } from "../rate-limited-log.js";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, type TcpTransportOptions, type TransportCounters } from "./tcp-transport-options.js";

/** Peers are few; beyond a handful of spare connections, inbound ones are abuse or leaks. */
const DEFAULT_INBOUND_CONNECTIONS_MAX = 64;
/** Unauthenticated connections at once: each holds at most one handshake frame (1 KiB). */
const DEFAULT_HANDSHAKES_INFLIGHT_MAX = 16;

type RejectCounter = "badFrames" | "badMessages" | "handshakesRejected" | "badSnapshotChunks";

export interface InboundConnectionsOptions {
  options: TcpTransportOptions;
  frameBytesMax: number;
  /** Shared with the transport, which reports them in stats(). */
  counters: TransportCounters;
  isKnownPeer: (peerId: NodeId) => boolean;
  isClosed: () => boolean;
  /** A connection from `peerId` finished its handshake. */
  onPeerConnected?: (peerId: NodeId) => void;
}

export class InboundConnections {
  readonly #options: TcpTransportOptions;
  readonly #counters: TransportCounters;
  readonly #isClosed: () => boolean;
  readonly #onPeerConnected: ((peerId: NodeId) => void) | undefined;
  readonly #handshake: AcceptorHandshakeContext;
  readonly #connections = new Set<InboundConnection>();
  readonly #snapshots: SnapshotReceiver<InboundConnection>;
  /** When each peer's last message arrived (performance.now()), for the reconfiguration check. */
  readonly #lastHeardMs = new Map<NodeId, number>();
  readonly #refusals: RateLimitedLog;

  constructor({ options, frameBytesMax, counters, isKnownPeer, isClosed, onPeerConnected }: InboundConnectionsOptions) {
    this.#onPeerConnected = onPeerConnected;
    this.#options = options;
    this.#counters = counters;
    this.#isClosed = isClosed;
    this.#handshake = { options, frameBytesMax, isKnownPeer };
    this.#refusals = new RateLimitedLog({ logger: options.logger });
    this.#snapshots = new SnapshotReceiver({ snapshotBytesMax: options.snapshotBytesMax, logger: options.logger });
  }

  get size(): number {
    return this.#connections.size;
  }

  lastHeardMs(peerId: NodeId): number | undefined {
    return this.#lastHeardMs.get(peerId);
  }

  /** Destroys every connection `peerId` made to us, or every connection when it is undefined. */
  destroy(peerId?: NodeId): void {
    for (const connection of this.#connections) {
      if (peerId === undefined || connection.peerId === peerId) {
        connection.socket.destroy();
      }
    }
  }

  /**
   * Closes the connections `peerId` made to us that delivered nothing for `silentMs` (counted from
   * when they were accepted). The transport calls it while it keeps sending to that peer, which
   * answers every message it gets: silence then means the peer's data is stuck, typically in TCP
   * retransmission backoff after a partition healed (the kernel retries at 0.2, 0.4, 0.8 ... s and
   * up to two minutes apart). Our close reaches the peer, which redials at once. Returns how many
   * were closed.
   */
  closeSilent(peerId: NodeId, silentMs: number, nowMs: number): number {
    let closed = 0;
    for (const connection of this.#connections) {
      if (connection.peerId === peerId && !connection.failed && nowMs - connection.lastFrameMs > silentMs) {
        this.#options.logger.warn("transport: closed a silent connection from peer", {
          peer: peerId,
          remote: connection.remote,
          silentMs: Math.round(nowMs - connection.lastFrameMs),
        });
        this.#counters.silentClosed += 1;
        connection.socket.destroy();
        closed += 1;
      }
    }
    return closed;
  }

  accept(socket: net.Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const refusal = this.#refuse();
    const budgeted = refusal === undefined && (this.#options.connectionBudget?.tryAcquire("peer") ?? true);
    if (refusal !== undefined || !budgeted) {
      this.#counters.inboundRefused += 1;
      const reason = refusal ?? "no file descriptors left for connections (the rest are kept for storage)";
      this.#refusals.warn("transport: refusing a connection", "transport: refusing a connection", { remote, reason });
      socket.destroy();
      return;
    }
    const handshakeTimeoutMs = this.#options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    const connection: InboundConnection = {
      socket,
      remote,
      decoder: new FrameDecoder({ frameBytesMax: HANDSHAKE_FRAME_BYTES_MAX }),
      peerId: undefined,
      hello: undefined,
      acceptorNonce: undefined,
      budgeted: this.#options.connectionBudget !== undefined,
      failed: false,
      lastFrameMs: performance.now(),
      handshakeTimer: setTimeout(
        () => this.#reject(connection, "handshakesRejected", `no complete handshake within ${handshakeTimeoutMs} ms`),
        handshakeTimeoutMs,
      ),
    };
    this.#connections.add(connection);
    socket.setKeepAlive(true, 10_000);
    socket.on("data", (chunk: Buffer) => this.#receive(connection, chunk));
    socket.on("end", () => {
      if (!connection.failed && connection.decoder.bufferedBytes > 0) {
        try {
          connection.decoder.finish();
        } catch (error) {
          this.#reject(connection, connection.peerId === undefined ? "handshakesRejected" : "badFrames", errorMessage(error));
          return;
        }
      }
      socket.destroy();
    });
    socket.on("error", () => undefined); // 'close' follows; a reset by the peer is not news
    socket.on("close", () => {
      clearTimeout(connection.handshakeTimer);
      this.#connections.delete(connection);
      if (connection.budgeted) {
        connection.budgeted = false;
        this.#options.connectionBudget?.release();
      }
      this.#snapshots.connectionClosed(connection);
    });
  }

  #receive(connection: InboundConnection, chunk: Buffer): void {
    if (connection.failed) {
      return;
    }
    const { decoder } = connection;
    decoder.append(chunk);
    for (;;) {
      let frame: Uint8Array | undefined;
      try {
        frame = decoder.next();
      } catch (error) {
        if (!(error instanceof FrameError)) {
          throw error;
        }
        this.#reject(connection, connection.peerId === undefined ? "handshakesRejected" : "badFrames", error.message);
        return;
      }
      if (frame === undefined) {
        return;
      }
      if (connection.peerId === undefined) {
        if (!this.#acceptHandshake(connection, frame)) {
          return;
        }
        if (connection.peerId !== undefined) {
          this.#onPeerConnected?.(connection.peerId);
          if (connection.failed || this.#isClosed()) {
            return;
          }
        }
        continue;
      }
      this.#counters.framesIn += 1;
      const label = `frame ${decoder.framesDecoded - 1} from node ${connection.peerId} (${connection.remote})`;
      let message: Message | undefined;
      try {
        message = isSnapshotChunkPayload(frame) ? this.#receiveChunk(connection, frame, label) : decodeMessage(frame, label);
      } catch (error) {
        if (!(error instanceof CodecError)) {
          throw error;
        }
        this.#reject(connection, "badMessages", error.message);
        return;
      }
      if (message === undefined) {
        if (connection.failed) {
          return;
        }
        continue; // a chunk of a snapshot still being assembled
      }
      const nodeId = this.#options.nodeId;
      if (message.from !== connection.peerId || message.to !== nodeId) {
        this.#reject(
          connection,
          "badMessages",
          `${label}: message from node ${message.from} to node ${message.to} on a connection from node ${connection.peerId} to node ${nodeId}`,
        );
        return;
      }
      this.#counters.messagesIn += 1;
      const nowMs = performance.now();
      connection.lastFrameMs = nowMs;
      this.#lastHeardMs.set(connection.peerId, nowMs);
      this.#options.onMessage(message);
      if (connection.failed || this.#isClosed()) {
        return; // onMessage removed the peer or closed the transport
      }
    }
  }

  /**
   * Decodes a chunk (throwing CodecError) and feeds it to the connection's reassembler; returns the
   * whole snap message with the last chunk. A chunk that does not fit the snapshot being assembled
   * closes the connection: the sender sees the loss and its core sends the snapshot again.
   */
  #receiveChunk(connection: InboundConnection, frame: Uint8Array, label: string): Message | undefined {
    const chunk = decodeSnapshotChunk(frame, label);
    const peerId = connection.peerId!;
    const nodeId = this.#options.nodeId;
    if (chunk.from !== peerId || chunk.to !== nodeId) {
      this.#reject(
        connection,
        "badMessages",
        `${label}: snapshot chunk from node ${chunk.from} to node ${chunk.to} on a connection from node ${peerId} to node ${nodeId}`,
      );
      return undefined;
    }
    const result = this.#snapshots.accept(connection, peerId, chunk);
    if (result.status === "refused") {
      this.#reject(connection, "badSnapshotChunks", `${label}: ${result.reason}`);
      return undefined;
    }
    if (result.status === "partial") {
      return undefined;
    }
    this.#counters.snapshotsReassembled += 1;
    return result.message;
  }

  /** Why a new inbound connection is refused now, or undefined to take it. */
  #refuse(): string | undefined {
    if (this.#isClosed()) {
      return "closed";
    }
    if (this.#connections.size >= (this.#options.inboundConnectionsMax ?? DEFAULT_INBOUND_CONNECTIONS_MAX)) {
      return "too many inbound connections";
    }
    let handshaking = 0;
    for (const connection of this.#connections) {
      handshaking += connection.peerId === undefined ? 1 : 0;
    }
    if (handshaking >= (this.#options.handshakesInflightMax ?? DEFAULT_HANDSHAKES_INFLIGHT_MAX)) {
      return "too many connections still in their handshake";
    }
    return undefined;
  }

  /** Feeds a handshake frame to inbound-handshake.ts; returns true once the peer is authenticated. */
  #acceptHandshake(connection: InboundConnection, frame: Uint8Array): boolean {
    let reason: string | undefined;
    try {
      reason = acceptorHandshakeStep(this.#handshake, connection, frame);
    } catch (error) {
      if (!(error instanceof CodecError)) {
        throw error;
      }
      reason = error.message;
    }
    if (reason !== undefined) {
      this.#reject(connection, "handshakesRejected", reason);
      return false;
    }
    return true;
  }

  #reject(connection: InboundConnection, counter: RejectCounter, reason: string): void {
    if (connection.failed) {
      return;
    }
    connection.failed = true;
    clearTimeout(connection.handshakeTimer);
    this.#counters[counter] += 1;
    // Grouped by counter and error code, so a flood of one kind does not hide the first of another.
    this.#refusals.warn(`${counter} ${/^[A-Z_]+(?=:)/.exec(reason)?.[0] ?? ""}`, "transport: closing a bad inbound connection", {
      remote: connection.remote,
      peer: connection.peerId,
      counter,
      reason,
    });
    connection.socket.destroy();
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
