// The client port: a TCP server speaking checksummed frames (frame-codec.ts), one JSON
// ClientRequest per frame, answered by a ClientResponse with the same id, possibly out of order
// (clients pipeline). A bad frame closes that connection only; bad JSON or fields get BAD_REQUEST.
// Answers produced in one turn of the event loop are corked into one write per connection.
import net from "node:net";
import type { ClientRequest, ClientResponse } from "../../protocol/client-protocol.js";
import { crc32c } from "../../../lib/crc32c.js";
import { FRAME_HEADER_BYTES, FrameDecoder } from "../transport/frame-codec.js";
import { parseClientRequest } from "./client-request.js";
import { formatHostPort, parseHostPort } from "../../../lib/host-port.js";
import type { Logger } from "../../../lib/logger.js";

export type Reply = (response: ClientResponse) => void;

export interface ClientRequestHandler {
  /** Handles one request and calls reply exactly once (possibly synchronously). */
  handle(request: ClientRequest, reply: Reply): void;
}

export interface ClientApiOptions {
  listen: string;
  handler: ClientRequestHandler;
  logger: Logger;
  /** Largest request frame; clients send small JSON objects. */
  frameBytesMax?: number;
  /** Requests a connection may have unanswered; more are answered UNAVAILABLE at once. */
  inflightPerConnectionMax?: number;
}

interface Connection {
  socket: net.Socket;
  decoder: FrameDecoder;
  inflight: number;
  corked: boolean;
  closed: boolean;
}

/** encodeFrame(utf8(JSON)) without the intermediate copy: the JSON is written into the frame. */
function encodeJsonFrame(value: ClientResponse): Buffer {
  const json = JSON.stringify(value);
  const payloadBytes = Buffer.byteLength(json, "utf8");
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadBytes);
  frame.write(json, FRAME_HEADER_BYTES, "utf8");
  frame.writeUInt32BE(payloadBytes, 0);
  frame.writeUInt32BE(crc32c(frame.subarray(FRAME_HEADER_BYTES)), 4);
  return frame;
}

export class ClientApi {
  readonly #options: Required<ClientApiOptions>;
  readonly #server: net.Server;
  readonly #connections = new Set<Connection>();
  #accepting = true;
  #badFrames = 0;

  constructor(options: ClientApiOptions) {
    this.#options = { frameBytesMax: 1024 * 1024, inflightPerConnectionMax: 4096, ...options };
    this.#server = net.createServer({ noDelay: true }, (socket) => this.#accept(socket));
  }

  /** Starts listening; resolves with the bound address (useful with port 0). */
  async start(): Promise<string> {
    const { host, port } = parseHostPort(this.#options.listen, { listen: true });
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen({ host, port }, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    const address = this.#server.address() as net.AddressInfo;
    return formatHostPort(address.address, address.port);
  }

  get stats(): { connections: number; badFrames: number } {
    return { connections: this.#connections.size, badFrames: this.#badFrames };
  }

  /** Stops accepting connections and requests; requests already taken are still answered. */
  stopAccepting(): void {
    this.#accepting = false;
    this.#server.close();
  }

  /** Closes every connection (after stopAccepting and after answering what can be answered). */
  async close(): Promise<void> {
    this.stopAccepting();
    for (const connection of this.#connections) {
      connection.socket.end();
      connection.socket.destroySoon();
    }
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    for (const connection of this.#connections) {
      connection.socket.destroy();
    }
  }

  #accept(socket: net.Socket): void {
    if (!this.#accepting) {
      socket.destroy();
      return;
    }
    const connection: Connection = {
      socket,
      decoder: new FrameDecoder({ frameBytesMax: this.#options.frameBytesMax }),
      inflight: 0,
      corked: false,
      closed: false,
    };
    this.#connections.add(connection);
    socket.on("data", (chunk: Buffer) => this.#onData(connection, chunk));
    socket.on("error", () => undefined); // reset by peer etc.: "close" follows
    socket.on("close", () => {
      connection.closed = true;
      this.#connections.delete(connection);
    });
  }

  #onData(connection: Connection, chunk: Buffer): void {
    let frames: Uint8Array[];
    try {
      frames = connection.decoder.push(chunk);
    } catch (error) {
      this.#badFrames += 1;
      this.#options.logger.warn("client connection sent a bad frame; closing it", {
        remote: `${connection.socket.remoteAddress}:${connection.socket.remotePort}`,
        error,
      });
      connection.socket.destroy();
      return;
    }
    for (const frame of frames) {
      this.#onFrame(connection, frame);
    }
  }

  #onFrame(connection: Connection, frame: Uint8Array): void {
    const parsed = parseClientRequest(frame);
    if (!parsed.ok) {
      this.#send(connection, { id: parsed.id, ok: false, code: "BAD_REQUEST", message: parsed.message });
      return;
    }
    const id = parsed.request.id;
    if (!this.#accepting) {
      this.#send(connection, { id, ok: false, code: "SHUTTING_DOWN", message: "the node is shutting down" });
      return;
    }
    if (connection.inflight >= this.#options.inflightPerConnectionMax) {
      this.#send(connection, {
        id,
        ok: false,
        code: "UNAVAILABLE",
        message: `more than ${this.#options.inflightPerConnectionMax} requests in flight on this connection`,
      });
      return;
    }
    connection.inflight += 1;
    let answered = false;
    this.#options.handler.handle(parsed.request, (response) => {
      if (answered) {
        throw new Error(`invariant: request ${id} answered twice`);
      }
      answered = true;
      connection.inflight -= 1;
      this.#send(connection, response);
    });
  }

  #send(connection: Connection, response: ClientResponse): void {
    if (connection.closed || connection.socket.destroyed) {
      return;
    }
    if (!connection.corked) {
      connection.corked = true;
      connection.socket.cork();
      process.nextTick(() => {
        connection.corked = false;
        connection.socket.uncork();
      });
    }
    connection.socket.write(encodeJsonFrame(response));
  }
}
