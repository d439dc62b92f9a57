// For tests that speak the peer protocol by hand: a raw TCP connection to a node's peer port that
// has completed the dialer's half of the handshake (peer-handshake.ts), ready for message frames.
import net from "node:net";
import { encodeFrame, FrameDecoder } from "../frame-codec.js";
import { DialerHandshake, HANDSHAKE_FRAME_BYTES_MAX } from "../peer-handshake.js";
import { parseHostPort } from "../../../../lib/host-port.js";

export interface PeerSocketOptions {
  address: string;
  clusterId: string;
  fromNodeId: number;
  toNodeId: number;
  /** The cluster secret; undefined for an --insecure node. */
  secret: Uint8Array | undefined;
  timeoutMs?: number;
}

export interface PeerSocket {
  socket: net.Socket;
  /** The frames this side sent for the handshake (hello, then proof), for replay tests. */
  sent: Buffer[];
}

/** Connects and handshakes; rejects if the node closes the connection or refuses our proof. */
export async function connectPeerSocket(options: PeerSocketOptions): Promise<PeerSocket> {
  const { host, port } = parseHostPort(options.address);
  const handshake = new DialerHandshake(options.secret, options.clusterId, options.fromNodeId, options.toNodeId);
  const socket = net.connect({ host, port });
  const sent: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const decoder = new FrameDecoder({ frameBytesMax: HANDSHAKE_FRAME_BYTES_MAX });
    const timer = setTimeout(() => fail(new Error(`no handshake challenge within ${options.timeoutMs ?? 5000} ms`)), options.timeoutMs ?? 5000);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.on("error", fail);
    socket.once("close", () => fail(new Error("the node closed the connection during the handshake")));
    socket.once("connect", () => {
      const hello = encodeFrame(handshake.helloFrame());
      sent.push(hello);
      socket.write(hello);
    });
    const onData = (chunk: Buffer): void => {
      try {
        const challenge = decoder.push(chunk)[0];
        if (challenge === undefined) {
          return;
        }
        const proof = encodeFrame(handshake.answer(challenge));
        sent.push(proof);
        socket.write(proof);
      } catch (error) {
        fail(error as Error);
        return;
      }
      clearTimeout(timer);
      socket.off("data", onData);
      socket.removeAllListeners("close");
      socket.off("error", fail);
      socket.on("error", () => undefined);
      socket.on("data", () => undefined);
      resolve();
    };
    socket.on("data", onData);
  });
  return { socket, sent };
}
