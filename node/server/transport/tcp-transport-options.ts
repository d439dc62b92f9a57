// The peer transport's options and counters (tcp-transport.ts).
import type { Message, NodeId } from "../../raft/messages.js";
import type { BackoffOptions } from "./backoff.js";
import type { LinkCounters } from "./peer-link.js";
import type { Logger } from "../../../lib/logger.js";
import type { ConnectionBudget } from "../connection-budget.js";

export interface TcpTransportOptions {
  nodeId: NodeId;
  clusterId: string;
  /** host:port to listen on; port 0 picks a free port (see listenAddress after start()). */
  listen: string;
  /** Every other voter's peer address. */
  peers: ReadonlyMap<NodeId, string>;
  /** Called synchronously for each valid message, in arrival order per connection. */
  onMessage: (message: Message) => void;
  /** A peer could not be reached or its connection broke (the server tells the core). */
  onUnreachable?: (peerId: NodeId) => void;
  /**
   * Every snap message sent ends in one report: true once it was written out whole, false if it
   * could not be (no connection, lost connection). The server passes it on to the core.
   */
  onSnapshotStatus?: (peerId: NodeId, ok: boolean) => void;
  /** Snapshot data beyond this many bytes is streamed in chunks of this size. */
  snapshotChunkBytes?: number;
  /** Largest chunked snapshot accepted from a peer. */
  snapshotBytesMax?: number;
  logger: Logger;
  /** The cluster secret both sides prove in the handshake; undefined (insecure) proves with an empty key. */
  secret?: Uint8Array | undefined;
  /** Descriptors shared with the client port; inbound connections beyond it are refused. */
  connectionBudget?: ConnectionBudget;
  frameBytesMax?: number;
  /** Per peer bound on frames waiting to be written; the oldest are dropped beyond it. */
  queuedMessagesMax?: number;
  queuedBytesMax?: number;
  connectTimeoutMs?: number;
  /** A connection (either side) must complete its handshake within this time (default 5 s). */
  handshakeTimeoutMs?: number;
  /** Accepted connections open at once (default 64); authenticated ones are one per peer. */
  inboundConnectionsMax?: number;
  /** Accepted connections still in their handshake at once (default 16). */
  handshakesInflightMax?: number;
  backoff?: BackoffOptions;
  /**
   * While we keep sending to a peer, a connection it made to us that delivers nothing for this
   * long is closed, so the peer redials (default 1000 ms; Raft answers every message, and a
   * leader's heartbeats come every heartbeat interval).
   */
  silentPeerMs?: number;
}

export interface TransportStats extends LinkCounters {
  /** Message frames received on accepted connections (handshakes not included). */
  framesIn: number;
  /** Messages handed to onMessage. */
  messagesIn: number;
  /** Connections closed for a bad frame: checksum, oversized length, or a stream cut mid-frame. */
  badFrames: number;
  /** Connections closed for a frame that does not decode, or whose from/to disagree with the handshake. */
  badMessages: number;
  /** Accepted connections closed before or at the handshake (garbage, wrong cluster, unknown peer, bad proof, timeout). */
  handshakesRejected: number;
  /** Accepted connections refused: inboundConnectionsMax or handshakesInflightMax reached, or no descriptors left. */
  inboundRefused: number;
  /** Messages to a node that is not a peer (or to ourselves). */
  droppedUnknownPeer: number;
  /** Messages larger than frameBytesMax (a peer would reject them). */
  droppedTooLarge: number;
  /** Snap messages sent as chunk streams. */
  snapshotsStreamed: number;
  /** Snapshots reassembled from chunks and handed to onMessage. */
  snapshotsReassembled: number;
  /** Connections closed for a chunk that does not continue the snapshot being assembled. */
  badSnapshotChunks: number;
  /** Accepted connections closed because the peer sent nothing on them while we kept sending to it (silentPeerMs). */
  silentClosed: number;
  /** Our connections to a peer dropped and dialed again because the peer dialed us anew. */
  redials: number;
  /** Currently open accepted connections. */
  inboundConnections: number;
  /** Peers with an open outbound connection. */
  connectedPeers: number;
}

/** TransportStats less the two gauges stats() computes on demand. */
export type TransportCounters = Omit<TransportStats, "inboundConnections" | "connectedPeers">;

/** Both halves of a handshake must finish within this, unless handshakeTimeoutMs says otherwise. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;

export const DEFAULT_SILENT_PEER_MS = 1000;
