// Peer transport between Raft nodes over TCP. Each node dials one connection to every peer and
// sends on it; connections it accepts only receive. Every frame (frame-codec.ts) carries one
// encoded Message (message-codec.ts), after a handshake frame (peer-handshake.ts), except a snap
// message larger than one chunk: it is streamed as chunk frames (snapshot-chunk-codec.ts) and
// reassembled on the accepting side (inbound-connections.ts) before the receiver sees it. Bad input
// never throws: the connection is closed, counted and logged, and the peer reconnects.
import net from "node:net";
import type { Message, NodeId } from "../../raft/messages.js";
import { DEFAULT_FRAME_BYTES_MAX, FRAME_HEADER_BYTES, sealFrame } from "./frame-codec.js";
import { encodeMessage } from "./message-codec.js";
import { DEFAULT_SNAPSHOT_CHUNK_BYTES } from "./snapshot-chunks.js";
import { SnapshotStream } from "./snapshot-stream.js";
import { DialerHandshake } from "./peer-handshake.js";
import { formatHostPort, parseHostPort } from "../../../lib/host-port.js";
import { PeerLink, type Supersedes } from "./peer-link.js";
import { InboundConnections } from "./inbound-connections.js";
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_SILENT_PEER_MS,
  type TcpTransportOptions,
  type TransportCounters,
  type TransportStats,
} from "./tcp-transport-options.js";

export type { TcpTransportOptions, TransportStats } from "./tcp-transport-options.js";

export class TcpTransport {
  readonly nodeId: NodeId;
  readonly #options: TcpTransportOptions;
  readonly #frameBytesMax: number;
  readonly #snapshotChunkBytes: number;
  readonly #peerAddresses = new Map<NodeId, string>();
  readonly #links = new Map<NodeId, PeerLink>();
  readonly #inbound: InboundConnections;
  readonly #counters: TransportCounters = {
    framesIn: 0,
    framesOut: 0,
    messagesIn: 0,
    badFrames: 0,
    badMessages: 0,
    handshakesRejected: 0,
    inboundRefused: 0,
    droppedQueueFull: 0,
    droppedUnknownPeer: 0,
    droppedTooLarge: 0,
    reconnects: 0,
    connectFailures: 0,
    snapshotsStreamed: 0,
    snapshotsReassembled: 0,
    badSnapshotChunks: 0,
    silentClosed: 0,
    redials: 0,
  };
  #server: net.Server | undefined;
  #silenceTimer: NodeJS.Timeout | undefined;
  #listenAddress: string | undefined;
  #closed = false;

  constructor(options: TcpTransportOptions) {
    this.nodeId = options.nodeId;
    this.#options = options;
    this.#frameBytesMax = options.frameBytesMax ?? DEFAULT_FRAME_BYTES_MAX;
    // A chunk and its few header bytes must fit a frame with room to spare.
    this.#snapshotChunkBytes = options.snapshotChunkBytes ?? Math.min(DEFAULT_SNAPSHOT_CHUNK_BYTES, Math.floor(this.#frameBytesMax / 4));
    this.#inbound = new InboundConnections({
      options,
      frameBytesMax: this.#frameBytesMax,
      counters: this.#counters,
      isKnownPeer: (peerId) => this.#peerAddresses.has(peerId),
      isClosed: () => this.#closed,
      onPeerConnected: (peerId) => this.#onPeerConnected(peerId),
    });
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
    const server = net.createServer({ noDelay: true }, (socket) => this.#inbound.accept(socket));
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
    const silentPeerMs = this.#options.silentPeerMs ?? DEFAULT_SILENT_PEER_MS;
    this.#silenceTimer = setInterval(() => this.#closeSilentInbound(silentPeerMs), Math.max(1, Math.floor(silentPeerMs / 4)));
    this.#silenceTimer.unref();
  }

  /**
   * The peer dialed us anew: its old connection broke, or it restarted. Ours to it may be broken
   * the same way without our knowing: a connection to a restarted peer's old process, or one whose
   * data sits in TCP retransmission backoff after a partition, looks open until the kernel's next
   * retry, possibly seconds away. So a connection of ours that is older than the silence limit is
   * dialed again (a younger one was just made, which also ends the exchange of redials).
   */
  #onPeerConnected(peerId: NodeId): void {
    const silentPeerMs = this.#options.silentPeerMs ?? DEFAULT_SILENT_PEER_MS;
    if (this.#links.get(peerId)?.redialIfOpenFor(performance.now(), silentPeerMs, "it dialed us anew") === true) {
      this.#counters.redials += 1;
    }
  }

  /**
   * A peer we keep sending to answers every message, so a connection of its that stays silent is
   * stuck: after a partition heals, its kernel may hold the data back for seconds of TCP
   * retransmission backoff while our own fresh connection to it works, and it hears our heartbeats
   * but we never hear it. Closing our end reaches it, and it redials (the local runtime's proxy cuts
   * connections, so this shows only with packet drops: Docker's iptables partitions).
   */
  #closeSilentInbound(silentPeerMs: number): void {
    const nowMs = performance.now();
    for (const [peerId, link] of this.#links) {
      if (link.sendingSteadily(nowMs, silentPeerMs, silentPeerMs / 4)) {
        this.#inbound.closeSilent(peerId, silentPeerMs, nowMs);
      }
    }
  }

  /** Writes every link's queued frames now rather than at the end of this turn of the event loop. */
  flush(): void {
    for (const link of this.#links.values()) {
      link.flushNow();
    }
  }

  /** Queues messages for their peers and returns at once; writes happen at the end of this turn, or at flush(). */
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
        link.startStream(
          new SnapshotStream({
            message,
            chunkBytes: this.#snapshotChunkBytes,
            logger: this.#options.logger,
            onFinished: (peerId, ok) => this.#options.onSnapshotStatus?.(peerId, ok),
          }),
        );
        continue;
      }
      const frame = sealFrame(encodeMessage(message, FRAME_HEADER_BYTES));
      const payloadBytes = frame.length - FRAME_HEADER_BYTES;
      if (payloadBytes > this.#frameBytesMax) {
        this.#counters.droppedTooLarge += 1;
        this.#options.logger.error("transport: message larger than frameBytesMax dropped", {
          peer: message.to,
          type: message.type,
          bytes: payloadBytes,
          frameBytesMax: this.#frameBytesMax,
        });
        this.#reportSnapshot(message, false);
        continue;
      }
      if (message.type === "snap") {
        link.cancelStream(); // this snapshot supersedes one still streaming
      }
      link.enqueue(frame, supersedesOf(message));
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
    this.#inbound.destroy(peerId);
    this.#options.logger.info("transport: peer removed", { peer: peerId });
  }

  /** performance.now() when the last message from `peerId` arrived; undefined if none since start. */
  lastHeardMs(peerId: NodeId): number | undefined {
    return this.#inbound.lastHeardMs(peerId);
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
    clearInterval(this.#silenceTimer);
    for (const link of this.#links.values()) {
      link.close();
    }
    this.#links.clear();
    this.#inbound.destroy();
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
}

/**
 * A follower's successful append responses of one term: the leader keeps only the highest match,
 * so a queued one makes a lower one redundant. Several Readys finishing on one group commit would
 * otherwise send one acknowledgement each, and the leader (the busiest process) reads, decodes and
 * steps them all (README, Benchmarks: issue 11's figures).
 */
function supersedesOf(message: Message): Supersedes | undefined {
  return message.type === "appResp" && !message.reject ? { key: `appResp/${message.term}`, rank: message.index } : undefined;
}
