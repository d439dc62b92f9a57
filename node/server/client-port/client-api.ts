// The client port: a TCP server speaking checksummed frames (frame-codec.ts), one JSON
// ClientRequest per frame, answered by a ClientResponse with the same id, possibly out of order
// (clients pipeline). A bad frame closes that connection only; bad JSON or fields get BAD_REQUEST.
// Answers produced in one turn of the event loop are corked into one write per connection.
//
// Administrative requests (ADMIN_REQUESTS) need a connection that proved the cluster secret
// (client-auth.ts); other requests are open to whoever reaches the port. Every resource an
// outsider could tie up is bounded: connections (per port and by the descriptor budget shared
// with the peer port), bytes of incomplete frames (per connection by frameBytesMax, over all
// connections by partialFrameBytesMax, in time by frameDeadlineMs), and answers a client does
// not read (reading pauses past outputPauseBytes; the connection is closed past outputBytesMax,
// or when all connections together hold more than outputBytesTotalMax).
import net from "node:net";
import { ADMIN_REQUESTS, type ClientRequest, type ClientResponse } from "../../protocol/client-protocol.js";
import { authProofMatches, clientAuthProof, newAuthNonce } from "../../protocol/client-auth.js";
import type { ConnectionBudget } from "../connection-budget.js";
import { RateLimitedLog } from "../rate-limited-log.js";
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
  /** The cluster secret administrative clients prove; undefined (--insecure) leaves them open. */
  secret?: Uint8Array | undefined;
  /** Descriptors shared with the peer port. */
  connectionBudget?: ConnectionBudget | undefined;
  /** Connections open at once on this port (default 256). */
  connectionsMax?: number;
  /** Bytes of incomplete frames over all connections (default 32 MiB). */
  partialFrameBytesMax?: number;
  /** A frame begun must arrive whole within this time of the previous one (default 10 s). */
  frameDeadlineMs?: number;
  /** Unsent answer bytes past which a connection's requests are no longer read (default 1 MiB). */
  outputPauseBytes?: number;
  /** Unsent answer bytes past which a connection is closed (default 8 MiB). */
  outputBytesMax?: number;
  /** Unsent answer bytes over all connections; past it the largest backlog is closed (default 64 MiB). */
  outputBytesTotalMax?: number;
}

type Limits = Required<Omit<ClientApiOptions, "secret" | "connectionBudget">>;

interface Connection {
  socket: net.Socket;
  remote: string;
  decoder: FrameDecoder;
  inflight: number;
  corked: boolean;
  closed: boolean;
  /** Proved the cluster secret (client-auth.ts). */
  authenticated: boolean;
  /** The nonce of the challenge this connection was given, until it answers it (once). */
  serverNonce: string | undefined;
  /** Bytes of the incomplete frame buffered in the decoder (counted in #partialFrameBytes). */
  partialBytes: number;
  frameTimer: NodeJS.Timeout | undefined;
  /** Answer bytes written but not yet handed to the kernel (counted in #unsentBytes). */
  unsentBytes: number;
  paused: boolean;
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
  readonly #options: Limits & Pick<ClientApiOptions, "secret" | "connectionBudget">;
  readonly #server: net.Server;
  readonly #connections = new Set<Connection>();
  readonly #refusals: RateLimitedLog;
  #accepting = true;
  #badFrames = 0;
  #refused = 0;
  #partialFrameBytes = 0;
  #unsentBytes = 0;

  constructor(options: ClientApiOptions) {
    this.#options = {
      frameBytesMax: 1024 * 1024,
      inflightPerConnectionMax: 4096,
      connectionsMax: 256,
      partialFrameBytesMax: 32 * 1024 * 1024,
      frameDeadlineMs: 10_000,
      outputPauseBytes: 1024 * 1024,
      outputBytesMax: 8 * 1024 * 1024,
      outputBytesTotalMax: 64 * 1024 * 1024,
      ...options,
    };
    this.#refusals = new RateLimitedLog({ logger: options.logger });
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

  get stats(): { connections: number; badFrames: number; refused: number; partialFrameBytes: number; unsentBytes: number } {
    return {
      connections: this.#connections.size,
      badFrames: this.#badFrames,
      refused: this.#refused,
      partialFrameBytes: this.#partialFrameBytes,
      unsentBytes: this.#unsentBytes,
    };
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
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    if (!this.#accepting) {
      socket.destroy();
      return;
    }
    if (this.#connections.size >= this.#options.connectionsMax || !(this.#options.connectionBudget?.tryAcquire("client") ?? true)) {
      this.#refused += 1;
      const reason =
        this.#connections.size >= this.#options.connectionsMax
          ? `${this.#options.connectionsMax} client connections are open`
          : "no file descriptors left for connections (the rest are kept for storage)";
      this.#refusals.warn("refused client connection", "refusing a client connection", { remote, reason });
      socket.destroy();
      return;
    }
    const connection: Connection = {
      socket,
      remote,
      decoder: new FrameDecoder({ frameBytesMax: this.#options.frameBytesMax }),
      inflight: 0,
      corked: false,
      closed: false,
      authenticated: false,
      serverNonce: undefined,
      partialBytes: 0,
      frameTimer: undefined,
      unsentBytes: 0,
      paused: false,
    };
    this.#connections.add(connection);
    socket.on("data", (chunk: Buffer) => this.#onData(connection, chunk));
    socket.on("drain", () => this.#maybeResume(connection));
    socket.on("error", () => undefined); // reset by peer etc.: "close" follows
    socket.on("close", () => {
      connection.closed = true;
      clearTimeout(connection.frameTimer);
      this.#partialFrameBytes -= connection.partialBytes;
      connection.partialBytes = 0;
      this.#unsentBytes -= connection.unsentBytes;
      connection.unsentBytes = 0;
      this.#connections.delete(connection);
      this.#options.connectionBudget?.release();
    });
  }

  #onData(connection: Connection, chunk: Buffer): void {
    if (connection.closed) {
      return;
    }
    let frames: Uint8Array[];
    try {
      frames = connection.decoder.push(chunk);
    } catch (error) {
      this.#badFrames += 1;
      this.#close(connection, "client connection sent a bad frame; closing it", { error: (error as Error).message });
      return;
    }
    this.#trackPartialFrame(connection, frames.length > 0);
    if (connection.closed) {
      return;
    }
    for (const frame of frames) {
      this.#onFrame(connection, frame);
    }
  }

  /** Accounts the incomplete frame left in the decoder; enforces the byte budget and the deadline. */
  #trackPartialFrame(connection: Connection, progressed: boolean): void {
    const buffered = connection.decoder.bufferedBytes;
    this.#partialFrameBytes += buffered - connection.partialBytes;
    connection.partialBytes = buffered;
    if (this.#partialFrameBytes > this.#options.partialFrameBytesMax) {
      this.#close(connection, "closing a client connection: incomplete frames over all connections exceed their budget", {
        partialFrameBytes: this.#partialFrameBytes,
        partialFrameBytesMax: this.#options.partialFrameBytesMax,
      });
      return;
    }
    if (progressed || buffered === 0) {
      clearTimeout(connection.frameTimer);
      connection.frameTimer = undefined;
    }
    if (buffered > 0 && connection.frameTimer === undefined) {
      const deadlineMs = this.#options.frameDeadlineMs;
      connection.frameTimer = setTimeout(() => {
        this.#close(connection, "closing a client connection: a frame did not arrive whole in time", { deadlineMs, bufferedBytes: connection.partialBytes });
      }, deadlineMs);
    }
  }

  #close(connection: Connection, message: string, fields: Record<string, unknown>): void {
    this.#refusals.warn(message, message, { remote: connection.remote, ...fields });
    connection.socket.destroy();
  }

  #onFrame(connection: Connection, frame: Uint8Array): void {
    const parsed = parseClientRequest(frame);
    if (!parsed.ok) {
      this.#send(connection, { id: parsed.id, ok: false, code: "BAD_REQUEST", message: parsed.message });
      return;
    }
    const request = parsed.request;
    const id = request.id;
    if (request.type === "authChallenge" || request.type === "authenticate") {
      this.#send(connection, this.#authenticate(connection, request));
      return;
    }
    if (ADMIN_REQUESTS.has(request.type) && !connection.authenticated && this.#options.secret !== undefined) {
      this.#refusals.warn("unauthenticated admin request", "refused an administrative request on an unauthenticated connection", {
        remote: connection.remote,
        type: request.type,
      });
      this.#send(connection, {
        id,
        ok: false,
        code: "UNAUTHENTICATED",
        message: `${request.type} needs a connection authenticated with the cluster secret (authChallenge, then authenticate)`,
      });
      return;
    }
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
    this.#options.handler.handle(request, (response) => {
      if (answered) {
        throw new Error(`invariant: request ${id} answered twice`);
      }
      answered = true;
      connection.inflight -= 1;
      this.#send(connection, response);
    });
  }

  /** The node's half of client-auth.ts: a nonce for authChallenge, the check of authenticate. */
  #authenticate(connection: Connection, request: Extract<ClientRequest, { type: "authChallenge" | "authenticate" }>): ClientResponse {
    const { id } = request;
    const secret = this.#options.secret;
    if (secret === undefined) {
      return { id, ok: false, code: "UNAUTHENTICATED", message: "this node runs --insecure: it holds no secret to authenticate with" };
    }
    if (request.type === "authChallenge") {
      connection.serverNonce = newAuthNonce();
      return { id, ok: true, result: { nonce: connection.serverNonce } };
    }
    const serverNonce = connection.serverNonce;
    connection.serverNonce = undefined; // one answer per challenge
    if (serverNonce === undefined || !authProofMatches(request.proof, clientAuthProof(secret, "client", serverNonce, request.nonce))) {
      this.#refusals.warn("failed client authentication", "a client failed to authenticate", { remote: connection.remote });
      return {
        id,
        ok: false,
        code: "UNAUTHENTICATED",
        message: serverNonce === undefined ? "authenticate without a pending authChallenge" : "the proof does not match this cluster's secret",
      };
    }
    connection.authenticated = true;
    return { id, ok: true, result: { proof: clientAuthProof(secret, "server", serverNonce, request.nonce) } };
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
    const frame = encodeJsonFrame(response);
    connection.unsentBytes += frame.length;
    this.#unsentBytes += frame.length;
    connection.socket.write(frame, () => {
      if (!connection.closed) {
        connection.unsentBytes -= frame.length;
        this.#unsentBytes -= frame.length;
        this.#maybeResume(connection);
      }
    });
    this.#limitOutput(connection);
  }

  /** Backpressure on a client that does not read its answers: pause, then disconnect. */
  #limitOutput(connection: Connection): void {
    if (connection.unsentBytes > this.#options.outputBytesMax) {
      this.#close(connection, "closing a client connection that does not read its answers", {
        unsentBytes: connection.unsentBytes,
        outputBytesMax: this.#options.outputBytesMax,
      });
      return;
    }
    if (this.#unsentBytes > this.#options.outputBytesTotalMax) {
      let largest = connection;
      for (const other of this.#connections) {
        largest = other.unsentBytes > largest.unsentBytes ? other : largest;
      }
      this.#close(largest, "closing the client connection with the largest unread backlog: unsent answers exceed their budget", {
        unsentBytes: largest.unsentBytes,
        unsentBytesTotal: this.#unsentBytes,
        outputBytesTotalMax: this.#options.outputBytesTotalMax,
      });
      return;
    }
    if (!connection.paused && connection.unsentBytes > this.#options.outputPauseBytes) {
      connection.paused = true;
      connection.socket.pause();
    }
  }

  #maybeResume(connection: Connection): void {
    if (connection.paused && !connection.closed && connection.unsentBytes <= this.#options.outputPauseBytes) {
      connection.paused = false;
      connection.socket.resume();
    }
  }
}
