// An accepted connection's state and the acceptor's half of the handshake (peer-handshake.ts),
// split from inbound-connections.ts: the hello is answered with a challenge, the proof must answer it.
import type net from "node:net";
import type { NodeId } from "../../raft/messages.js";
import { encodeFrame, type FrameDecoder } from "./frame-codec.js";
import { decodeHello, decodeProof, encodeChallenge, handshakeProof, newNonce, PROOF_MISMATCH, proofMatches, type PeerHello } from "./peer-handshake.js";
import type { TcpTransportOptions } from "./tcp-transport-options.js";

export interface InboundConnection {
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
  /** performance.now() when it was accepted or last delivered a frame (closeSilent). */
  lastFrameMs: number;
}

export interface AcceptorHandshakeContext {
  options: Pick<TcpTransportOptions, "nodeId" | "clusterId" | "secret" | "logger">;
  /** The frame limit once the peer is authenticated (handshake frames are held far smaller). */
  frameBytesMax: number;
  isKnownPeer: (peerId: NodeId) => boolean;
}

/**
 * Takes the next handshake frame: the hello if none came yet, else the proof. Returns why the
 * connection must be rejected, or undefined; throws CodecError on a malformed frame.
 */
export function acceptorHandshakeStep(context: AcceptorHandshakeContext, connection: InboundConnection, frame: Uint8Array): string | undefined {
  return connection.hello === undefined ? receiveHello(context, connection, frame) : receiveProof(context, connection, connection.hello, frame);
}

function receiveHello({ options, isKnownPeer }: AcceptorHandshakeContext, connection: InboundConnection, frame: Uint8Array): string | undefined {
  const hello = decodeHello(frame, `handshake from ${connection.remote}`);
  if (hello.clusterId !== options.clusterId) {
    return `cluster id ${JSON.stringify(hello.clusterId)} is not ours (${JSON.stringify(options.clusterId)})`;
  }
  if (hello.toNodeId !== options.nodeId) {
    return `addressed to node ${hello.toNodeId}, this is node ${options.nodeId}`;
  }
  if (!isKnownPeer(hello.fromNodeId)) {
    return `node ${hello.fromNodeId} is not a known peer`;
  }
  const acceptorNonce = newNonce();
  connection.hello = hello;
  connection.acceptorNonce = acceptorNonce;
  connection.socket.write(encodeFrame(encodeChallenge({ acceptorNonce, acceptorProof: handshakeProof(options.secret, "accept", hello, acceptorNonce) })));
  return undefined;
}

function receiveProof(
  { options, frameBytesMax }: AcceptorHandshakeContext,
  connection: InboundConnection,
  hello: PeerHello,
  frame: Uint8Array,
): string | undefined {
  const proof = decodeProof(frame, `handshake proof from ${connection.remote} (claiming node ${hello.fromNodeId})`);
  if (!proofMatches(proof, handshakeProof(options.secret, "dial", hello, connection.acceptorNonce!))) {
    return `proof from ${connection.remote} claiming node ${hello.fromNodeId} ${PROOF_MISMATCH}`;
  }
  const peerId = hello.fromNodeId;
  connection.peerId = peerId;
  clearTimeout(connection.handshakeTimer);
  connection.decoder.frameBytesMax = frameBytesMax;
  options.logger.info("transport: accepted peer connection", { peer: peerId, remote: connection.remote });
  return undefined;
}
