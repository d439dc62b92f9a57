// A scripted stand-in for a node's client port, speaking the real frame codec and JSON protocol.
// Only for the client's protocol edge cases (hints, timeouts, dropped connections, session retries);
// the end-to-end tests use real node processes.
import net from "node:net";
import type { ClientRequest, ClientResponse } from "../../protocol/client-protocol.js";
import { encodeFrame, FrameDecoder } from "../../server/transport/frame-codec.js";

export interface FakeConnection {
  reply(response: ClientResponse): void;
  /** Drops the TCP connection (after the request was read: the client cannot know its fate). */
  destroy(): void;
}

/** Decides what happens to each request: reply, stay silent, or destroy the connection. */
export type FakeHandler = (request: ClientRequest, connection: FakeConnection) => void;

export class FakeNodeServer {
  readonly #server: net.Server;
  readonly #sockets: Set<net.Socket>;

  private constructor(
    readonly id: number,
    server: net.Server,
    readonly address: string,
    sockets: Set<net.Socket>,
    /** Every request received, in arrival order. */
    readonly requests: ClientRequest[],
  ) {
    this.#server = server;
    this.#sockets = sockets;
  }

  static async start(id: number, handler: FakeHandler): Promise<FakeNodeServer> {
    const requests: ClientRequest[] = [];
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
      const decoder = new FrameDecoder();
      const connection: FakeConnection = {
        reply: (response) => {
          if (!socket.destroyed) {
            socket.write(encodeFrame(Buffer.from(JSON.stringify(response), "utf8")));
          }
        },
        destroy: () => socket.destroy(),
      };
      socket.on("data", (chunk: Buffer) => {
        for (const payload of decoder.push(chunk)) {
          const request = JSON.parse(Buffer.from(payload).toString("utf8")) as ClientRequest;
          requests.push(request);
          handler(request, connection);
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const port = (server.address() as net.AddressInfo).port;
    return new FakeNodeServer(id, server, `127.0.0.1:${port}`, sockets, requests);
  }

  /** Requests of the given type received so far. */
  requestsOfType<T extends ClientRequest["type"]>(type: T): Extract<ClientRequest, { type: T }>[] {
    return this.requests.filter((request): request is Extract<ClientRequest, { type: T }> => request.type === type);
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) {
      socket.destroy();
    }
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A loopback address on which nothing listens (connections are refused). */
export async function refusedAddress(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}
