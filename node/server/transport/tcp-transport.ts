// Peer transport between Raft nodes over TCP. Each node dials one connection to every peer and
// sends on it; connections it accepts only receive. Every frame (frame-codec.ts) carries one
// encoded Message (message-codec.ts), after a handshake frame (peer-handshake.ts), except a snap
// message larger than one chunk: it is streamed as chunk frames (snapshot-chunk-codec.ts) and
// reassembled here before the receiver sees it. Bad input never throws: the connection is closed,
// counted and logged, and the peer reconnects.
import net from "node:net";
import type { Message, NodeId } from "../../raft/messages.js";
import { CodecError } from "../../../lib/binary-cursor.js";
import { DEFAULT_FRAME_BYTES_MAX, encodeFrame, FRAME_HEADER_BYTES, FrameDecoder, FrameError, sealFrame } from "./frame-codec.js";
import { decodeMessage, encodeMessage } from "./message-codec.js";
import { decodeSnapshotChunk, isSnapshotChunkPayload } from "./snapshot-chunk-codec.js";
import { DEFAULT_SNAPSHOT_CHUNK_BYTES } from "./snapshot-chunks.js";
import { SnapshotReceiver } from "./snapshot-receiver.js";
import { SnapshotStream } from "./snapshot-stream.js";
import {
  decodeHello, decodeProof, DialerHandshake, encodeChallenge, HANDSHAKE_FRAME_BYTES_MAX, handshakeProof, newNonce,
  PROOF_MISMATCH, proofMatches, type PeerHello,
} from "./peer-handshake.js";
import { RateLimitedLog } from "../rate-limited-log.js";
import { formatHostPort, parseHostPort } from "../../../lib/host-port.js";
import { PeerLink } from "./peer-link.js";
import type { TcpTransportOptions, TransportStats } from "./tcp-transport-options.js";

export type { TcpTransportOptions, TransportStats } from "./tcp-transport-options.js";

interface InboundConnection {
  socket: net.Socket;
  remote: string;
  decoder: FrameDecoder;
  /** Set once the handshake is accepted: the only sender this connection may speak for. */
  peerId: NodeId | undefined;
  /** The dialer's hello, once received; the proof must answer the challenge sent for it. */
  hello: PeerHello | undefined;
  acceptorNonce: Buffer | undefined;
  /** Holds one descriptor of the connection budget, released on close. */
  budgeted: boolean;
  handshakeTimer: NodeJS.Timeout;
  /** Set when we closed it for bad input, so it is counted once. */
  failed: boolean;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;
/** Peers are few; beyond a handful of spare connections, inbound ones are abuse or leaks. */
const DEFAULT_INBOUND_CONNECTIONS_MAX = 64;
/** Unauthenticated connections at once: each holds at most one handshake frame (1 KiB). */
const DEFAULT_HANDSHAKES_INFLIGHT_MAX = 16;

type RejectCounter = "badFrames" | "badMessages" | "handshakesRejected" | "badSnapshotChunks";

export class TcpTransport {
  readonly nodeId: NodeId;
  readonly #options: TcpTransportOptions;
  readonly #frameBytesMax: number;
  readonly #snapshotChunkBytes: number;
  readonly #peerAddresses = new Map<NodeId, string>();
  readonly #links = new Map<NodeId, PeerLink>();
  readonly #inbound = new Set<InboundConnection>();
  readonly #snapshots: SnapshotReceiver<InboundConnection>;
  readonly #counters: Omit<TransportStats, "inboundConnections" | "connectedPeers"> = {
    framesIn: 0, framesOut: 0, messagesIn: 0, badFrames: 0, badMessages: 0, handshakesRejected: 0,
    inboundRefused: 0, droppedQueueFull: 0, droppedUnknownPeer: 0, droppedTooLarge: 0, reconnects: 0, connectFailures: 0,
    snapshotsStreamed: 0, snapshotsReassembled: 0, badSnapshotChunks: 0,
  };
  /** When each peer's last message arrived (performance.now()), for the reconfiguration check. */
  readonly #lastHeardMs = new Map<NodeId, number>();
  readonly #refusals: RateLimitedLog;
  #server: net.Server | undefined;
  #listenAddress: string | undefined;
  #closed = false;

  constructor(options: TcpTransportOptions) {
    this.nodeId = options.nodeId;
    this.#options = options;
    this.#frameBytesMax = options.frameBytesMax ?? DEFAULT_FRAME_BYTES_MAX;
    // A chunk and its few header bytes must fit a frame with room to spare.
    this.#snapshotChunkBytes = options.snapshotChunkBytes ?? Math.min(DEFAULT_SNAPSHOT_CHUNK_BYTES, Math.floor(this.#frameBytesMax / 4));
    this.#refusals = new RateLimitedLog({ logger: options.logger });
    this.#snapshots = new SnapshotReceiver({ snapshotBytesMax: options.snapshotBytesMax, logger: options.logger });
    if (!(Number.isSafeInteger(this.#snapshotChunkBytes) && this.#snapshotChunkBytes >= 1 && this.#snapshotChunkBytes <= this.#frameBytesMax / 2)) {
      throw new RangeError(`TcpTransport: snapshotChunkBytes must be a positive integer well under frameBytesMax, got ${this.#snapshotChunkBytes}`);
    }
    parseHostPort(options.listen, { listen: true });
    for (const [peerId, address] of options.peers) {
      if (peerId !== this.nodeId) {
        parseHostPort(address);
        this.#peerAddresses.set(peerId, address);
      }
    }
  }

  /** host:port actually bound (differs from options.listen when it asked for port 0). */
  get listenAddress(): string {
    if (this.#listenAddress === undefined) {
      throw new Error("TcpTransport: listenAddress read before start()");
    }
    return this.#listenAddress;
  }

  /** Starts listening and dialing every peer. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.#server !== undefined || this.#closed) {
      throw new Error("TcpTransport: start() called twice or after close()");
    }
    const { host, port } = parseHostPort(this.#options.listen, { listen: true });
    const server = net.createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        server.close();
        reject(signal?.reason instanceof Error ? signal.reason : new Error("TcpTransport.start aborted"));
      };
      signal?.throwIfAborted();
      signal?.addEventListener("abort", onAbort, { once: true });
      server.once("error", (error) => {
        signal?.removeEventListener("abort", onAbort);
        reject(error);
      });
      server.listen({ host, port }, () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
    });
    server.on("error", (error) => this.#options.logger.error("transport: listener error", { error: error.message }));
    const bound = server.address() as net.AddressInfo;
    this.#listenAddress = formatHostPort(bound.address, bound.port);
    this.#options.logger.info("transport: listening", { node: this.nodeId, address: this.#listenAddress });
    for (const [peerId, address] of this.#peerAddresses) {
      this.#links.set(peerId, this.#newLink(peerId, address));
    }
  }

  /** Queues messages for their peers and returns at once; writes happen on a later tick. */
  send(messages: readonly Message[]): void {
    for (const message of messages) {
      const link = this.#links.get(message.to);
      if (link === undefined) {
        this.#counters.droppedUnknownPeer += 1;
        this.#reportSnapshot(message, false);
        continue;
      }
      if (message.type === "snap" && message.snapshot !== undefined && message.snapshot.data.length > this.#snapshotChunkBytes) {
        this.#counters.snapshotsStreamed += 1;
        link.startStream(new SnapshotStream({
          message,
          chunkBytes: this.#snapshotChunkBytes,
          logger: this.#options.logger,
          onFinished: (peerId, ok) => this.#options.onSnapshotStatus?.(peerId, ok),
        }));
        continue;
      }
      const frame = sealFrame(encodeMessage(message, FRAME_HEADER_BYTES));
      const payloadBytes = frame.length - FRAME_HEADER_BYTES;
      if (payloadBytes > this.#frameBytesMax) {
        this.#counters.droppedTooLarge += 1;
        this.#options.logger.error("transport: message larger than frameBytesMax dropped", {
          peer: message.to, type: message.type, bytes: payloadBytes, frameBytesMax: this.#frameBytesMax,
        });
        this.#reportSnapshot(message, false);
        continue;
      }
      if (message.type === "snap") {
        link.cancelStream(); // this snapshot supersedes one still streaming
      }
      link.enqueue(frame);
      this.#reportSnapshot(message, true);
    }
  }

  /** A snap message small enough for one frame is reported as soon as it is queued. */
  #reportSnapshot(message: Message, ok: boolean): void {
    if (message.type === "snap") {
      this.#options.onSnapshotStatus?.(message.to, ok);
    }
  }

  /** Adds (or re-addresses) a peer after a membership change. */
  addPeer(peerId: NodeId, address: string): void {
    parseHostPort(address);
    if (peerId === this.nodeId || this.#peerAddresses.get(peerId) === address) {
      return;
    }
    this.#peerAddresses.set(peerId, address);
    this.#links.get(peerId)?.close();
    this.#links.delete(peerId);
    if (this.#server !== undefined && !this.#closed) {
      this.#links.set(peerId, this.#newLink(peerId, address));
    }
    this.#options.logger.info("transport: peer added", { peer: peerId, address });
  }

  /** Forgets a peer: closes our connection to it and every connection it made to us. */
  removePeer(peerId: NodeId): void {
    this.#peerAddresses.delete(peerId);
    this.#links.get(peerId)?.close();
    this.#links.delete(peerId);
    for (const connection of this.#inbound) {
      if (connection.peerId === peerId) {
        connection.socket.destroy();
      }
    }
    this.#options.logger.info("transport: peer removed", { peer: peerId });
  }

  /** performance.now() when the last message from `peerId` arrived; undefined if none since start. */
  lastHeardMs(peerId: NodeId): number | undefined {
    return this.#lastHeardMs.get(peerId);
  }

  peers(): ReadonlyMap<NodeId, string> {
    return new Map(this.#peerAddresses);
  }

  stats(): TransportStats {
    let connectedPeers = 0;
    for (const link of this.#links.values()) {
      connectedPeers += link.connected ? 1 : 0;
    }
    return { ...this.#counters, inboundConnections: this.#inbound.size, connectedPeers };
  }

  /** Closes the listener and every connection; queued messages are dropped. */
  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    for (const link of this.#links.values()) {
      link.close();
    }
    this.#links.clear();
    for (const connection of this.#inbound) {
      connection.socket.destroy();
    }
    const server = this.#server;
    if (server !== undefined) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  #newLink(peerId: NodeId, address: string): PeerLink {
    return new PeerLink({
      peerId,
      address,
      handshake: () => new DialerHandshake(this.#options.secret, this.#options.clusterId, this.nodeId, peerId),
      handshakeTimeoutMs: this.#options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      queuedMessagesMax: this.#options.queuedMessagesMax ?? 4096,
      queuedBytesMax: this.#options.queuedBytesMax ?? 64 * 1024 * 1024,
      connectTimeoutMs: this.#options.connectTimeoutMs ?? 2000,
      backoff: this.#options.backoff ?? {},
      logger: this.#options.logger,
      counters: this.#counters,
      onUnreachable: (id) => this.#options.onUnreachable?.(id),
    });
  }

  #accept(socket: net.Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const refusal = this.#refuseInbound();
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
      handshakeTimer: setTimeout(() => this.#reject(connection, "handshakesRejected", `no complete handshake within ${handshakeTimeoutMs} ms`), handshakeTimeoutMs),
    };
    this.#inbound.add(connection);
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
      this.#inbound.delete(connection);
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
      if (message.from !== connection.peerId || message.to !== this.nodeId) {
        this.#reject(connection, "badMessages", `${label}: message from node ${message.from} to node ${message.to} on a connection from node ${connection.peerId} to node ${this.nodeId}`);
        return;
      }
      this.#counters.messagesIn += 1;
      this.#lastHeardMs.set(connection.peerId, performance.now());
      this.#options.onMessage(message);
      if (connection.failed || this.#closed) {
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
    if (chunk.from !== peerId || chunk.to !== this.nodeId) {
      this.#reject(connection, "badMessages", `${label}: snapshot chunk from node ${chunk.from} to node ${chunk.to} on a connection from node ${peerId} to node ${this.nodeId}`);
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
  #refuseInbound(): string | undefined {
    if (this.#closed) {
      return "closed";
    }
    if (this.#inbound.size >= (this.#options.inboundConnectionsMax ?? DEFAULT_INBOUND_CONNECTIONS_MAX)) {
      return "too many inbound connections";
    }
    let handshaking = 0;
    for (const connection of this.#inbound) {
      handshaking += connection.peerId === undefined ? 1 : 0;
    }
    if (handshaking >= (this.#options.handshakesInflightMax ?? DEFAULT_HANDSHAKES_INFLIGHT_MAX)) {
      return "too many connections still in their handshake";
    }
    return undefined;
  }

  /**
   * The acceptor's half of the handshake (peer-handshake.ts): the hello is answered with a
   * challenge, the proof must answer that challenge. Returns true once the peer is authenticated.
   */
  #acceptHandshake(connection: InboundConnection, frame: Uint8Array): boolean {
    let reason: string | undefined;
    try {
      reason = connection.hello === undefined ? this.#receiveHello(connection, frame) : this.#receiveProof(connection, connection.hello, frame);
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

  #receiveHello(connection: InboundConnection, frame: Uint8Array): string | undefined {
    const hello = decodeHello(frame, `handshake from ${connection.remote}`);
    if (hello.clusterId !== this.#options.clusterId) {
      return `cluster id ${JSON.stringify(hello.clusterId)} is not ours (${JSON.stringify(this.#options.clusterId)})`;
    }
    if (hello.toNodeId !== this.nodeId) {
      return `addressed to node ${hello.toNodeId}, this is node ${this.nodeId}`;
    }
    if (!this.#peerAddresses.has(hello.fromNodeId)) {
      return `node ${hello.fromNodeId} is not a known peer`;
    }
    const acceptorNonce = newNonce();
    connection.hello = hello;
    connection.acceptorNonce = acceptorNonce;
    connection.socket.write(encodeFrame(encodeChallenge({ acceptorNonce, acceptorProof: handshakeProof(this.#options.secret, "accept", hello, acceptorNonce) })));
    return undefined;
  }

  #receiveProof(connection: InboundConnection, hello: PeerHello, frame: Uint8Array): string | undefined {
    const proof = decodeProof(frame, `handshake proof from ${connection.remote} (claiming node ${hello.fromNodeId})`);
    if (!proofMatches(proof, handshakeProof(this.#options.secret, "dial", hello, connection.acceptorNonce!))) {
      return `proof from ${connection.remote} claiming node ${hello.fromNodeId} ${PROOF_MISMATCH}`;
    }
    const peerId = hello.fromNodeId;
    connection.peerId = peerId;
    clearTimeout(connection.handshakeTimer);
    connection.decoder.frameBytesMax = this.#frameBytesMax;
    this.#options.logger.info("transport: accepted peer connection", { peer: peerId, remote: connection.remote });
    return undefined;
  }

  #reject(connection: InboundConnection, counter: RejectCounter, reason: string): void {
    if (connection.failed) {
      return;
    }
    connection.failed = true;
    clearTimeout(connection.handshakeTimer);
    this.#counters[counter] += 1;
    // Grouped by counter and error code, so a flood of one kind does not hide the first of another.
    this.#refusals.warn(`${counter} ${/^[A-Z_]+(?=:)/.exec(reason)?.[0] ?? ""}`, "transport: closing a bad inbound connection", { remote: connection.remote, peer: connection.peerId, counter, reason });
    connection.socket.destroy();
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
