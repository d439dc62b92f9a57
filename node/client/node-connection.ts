// One lazily opened TCP connection to one node's client port. Requests are pipelined: each carries
// an id and the response echoing it settles the matching promise, in any order. Every failure says
// whether the request's bytes may have reached the node (ClientError.sent). Given the cluster
// secret, a new connection first authenticates (node/protocol/client-auth.ts), both ways, so that
// administrative requests are accepted and the node is known to hold the same secret.
import net from "node:net";
import type { ClientRequest, ClientResponse } from "../protocol/client-protocol.js";
import { encodeFrame, FrameDecoder } from "../server/transport/frame-codec.js";
import { parseHostPort } from "../../lib/host-port.js";
import { authProofMatches, clientAuthProof, newAuthNonce } from "../protocol/client-auth.js";
import { AbortedError, ClientError } from "./errors.js";
import { silentLogger, type Logger } from "../../lib/logger.js";

/** A request without its id: the connection numbers requests itself. */
export type RequestBody = ClientRequest extends infer R ? (R extends ClientRequest ? Omit<R, "id"> : never) : never;

export interface NodeConnectionOptions {
  nodeId: number;
  /** host:port of the node's client listener. */
  address: string;
  connectTimeoutMs: number;
  /** The cluster secret: authenticate every new connection with it (needed for administrative requests). */
  secret?: Uint8Array | undefined;
  logger?: Logger;
}

interface PendingRequest {
  resolve(response: ClientResponse): void;
  reject(error: Error): void;
}

/** Bound on requests outstanding on one connection, so a stuck node cannot grow memory without limit. */
const PENDING_REQUESTS_MAX = 10_000;

export class NodeConnection {
  readonly nodeId: number;
  readonly address: string;
  readonly #connectTimeoutMs: number;
  readonly #secret: Uint8Array | undefined;
  readonly #logger: Logger;
  #socket: net.Socket | undefined;
  #connecting: Promise<net.Socket> | undefined;
  readonly #pending = new Map<number, PendingRequest>();
  #nextRequestId = 1;
  #closed = false;

  constructor(options: NodeConnectionOptions) {
    parseHostPort(options.address); // fail fast on a malformed address
    this.nodeId = options.nodeId;
    this.address = options.address;
    this.#connectTimeoutMs = options.connectTimeoutMs;
    this.#secret = options.secret;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Requests currently awaiting a response. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * Sends one request and waits for its response (which may be `ok: false`). Rejects with
   * ClientError: CONNECTION_FAILED (sent=false), or CONNECTION_LOST / REQUEST_TIMEOUT / ABORTED
   * with sent=true once the bytes were handed to the socket.
   */
  async request(body: RequestBody, options: { timeoutMs: number; signal?: AbortSignal }): Promise<ClientResponse> {
    const { signal } = options;
    if (signal?.aborted === true) {
      throw new AbortedError(`request ${body.type} to node ${this.nodeId}`, false);
    }
    const deadline = Date.now() + options.timeoutMs;
    const socket = await this.#connect(signal, options.timeoutMs);
    return this.#exchange(socket, body, deadline, options.timeoutMs, signal);
  }

  /** Writes one request on an open socket and waits for the response with its id. */
  #exchange(socket: net.Socket, body: RequestBody, deadline: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<ClientResponse> {
    if (this.#pending.size >= PENDING_REQUESTS_MAX) {
      return Promise.reject(
        new ClientError(
          "CONNECTION_FAILED",
          `node ${this.nodeId} has ${this.#pending.size} requests outstanding (limit ${PENDING_REQUESTS_MAX}); not sending`,
          false,
        ),
      );
    }
    const id = this.#nextRequestId++;
    return new Promise<ClientResponse>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#pending.delete(id);
      };
      const onAbort = (): void => {
        cleanup();
        reject(new AbortedError(`request ${id} (${body.type}) to node ${this.nodeId}`, true));
      };
      const timer = setTimeout(
        () => {
          cleanup();
          reject(
            new ClientError(
              "REQUEST_TIMEOUT",
              `no response from node ${this.nodeId} (${this.address}) to request ${id} (${body.type}) within ${timeoutMs} ms`,
              true,
            ),
          );
        },
        Math.max(0, deadline - Date.now()),
      );
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(id, {
        resolve: (response) => {
          cleanup();
          resolve(response);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      });
      const payload = Buffer.from(JSON.stringify({ ...body, id }), "utf8");
      socket.write(encodeFrame(payload));
    });
  }

  /** Closes the socket; outstanding requests fail with CONNECTION_LOST. Later requests reconnect unless closed for good. */
  disconnect(reason: string): void {
    this.#socket?.destroy(new Error(reason));
  }

  /** Closes for good: outstanding and later requests fail with CLIENT_CLOSED. */
  close(): void {
    this.#closed = true;
    this.#failPending(new ClientError("CLIENT_CLOSED", `connection to node ${this.nodeId} closed by the client`, true));
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  async #connect(signal: AbortSignal | undefined, timeoutMs: number): Promise<net.Socket> {
    if (this.#closed) {
      throw new ClientError("CLIENT_CLOSED", `connection to node ${this.nodeId} is closed`, false);
    }
    if (this.#socket !== undefined) {
      return this.#socket;
    }
    this.#connecting ??= this.#open().finally(() => {
      this.#connecting = undefined;
    });
    const connecting = this.#connecting;
    // Each caller waits with its own signal and limit; the shared attempt has its own connect timeout.
    return new Promise<net.Socket>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(new AbortedError(`connecting to node ${this.nodeId}`, false));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        reject(new ClientError("CONNECTION_FAILED", `connecting to node ${this.nodeId} (${this.address}) took over ${timeoutMs} ms`, false));
      }, timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      connecting.then(
        (socket) => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          resolve(socket);
        },
        (error: unknown) => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  #open(): Promise<net.Socket> {
    const { host, port } = parseHostPort(this.address);
    return new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy(new Error(`connect timeout after ${this.#connectTimeoutMs} ms`));
      }, this.#connectTimeoutMs);
      const onConnectError = (error: Error): void => {
        clearTimeout(timer);
        reject(new ClientError("CONNECTION_FAILED", `cannot connect to node ${this.nodeId} (${this.address}): ${error.message}`, false));
      };
      socket.once("error", onConnectError);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.off("error", onConnectError);
        if (this.#closed) {
          socket.destroy();
          reject(new ClientError("CLIENT_CLOSED", `connection to node ${this.nodeId} closed while connecting`, false));
          return;
        }
        socket.setNoDelay(true);
        this.#attach(socket);
        this.#authenticate(socket).then(
          () => {
            if (socket.destroyed) {
              reject(new ClientError("CONNECTION_FAILED", `connection to node ${this.nodeId} (${this.address}) closed while authenticating`, false));
              return;
            }
            this.#socket = socket;
            resolve(socket);
          },
          (error: unknown) => {
            socket.destroy();
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
      });
    });
  }

  /**
   * With a secret: proves it over the node's nonce and checks the node's proof over ours. Fails
   * with CONNECTION_FAILED (nothing of the caller's was sent) naming the reason.
   */
  async #authenticate(socket: net.Socket): Promise<void> {
    const secret = this.#secret;
    if (secret === undefined) {
      return;
    }
    const deadline = Date.now() + this.#connectTimeoutMs;
    const failed = (reason: string): ClientError =>
      new ClientError("CONNECTION_FAILED", `cannot authenticate with node ${this.nodeId} (${this.address}): ${reason}`, false);
    let challenge: ClientResponse;
    let answer: ClientResponse;
    const clientNonce = newAuthNonce();
    try {
      challenge = await this.#exchange(socket, { type: "authChallenge" }, deadline, this.#connectTimeoutMs, undefined);
      const serverNonce = challenge.ok && "result" in challenge ? (challenge.result as { nonce?: unknown }).nonce : undefined;
      if (typeof serverNonce !== "string") {
        throw failed(challenge.ok ? "the node sent no nonce" : `${challenge.code}: ${challenge.message}`);
      }
      const proof = clientAuthProof(secret, "client", serverNonce, clientNonce);
      answer = await this.#exchange(socket, { type: "authenticate", nonce: clientNonce, proof }, deadline, this.#connectTimeoutMs, undefined);
      const serverProof = answer.ok && "result" in answer ? (answer.result as { proof?: unknown }).proof : undefined;
      if (typeof serverProof !== "string") {
        throw failed(answer.ok ? "the node sent no proof" : `${answer.code}: ${answer.message}`);
      }
      if (!authProofMatches(serverProof, clientAuthProof(secret, "server", serverNonce, clientNonce))) {
        throw failed("the node's proof does not match: it does not hold this cluster's secret");
      }
    } catch (error) {
      if (error instanceof ClientError && error.code === "CONNECTION_FAILED") {
        throw error;
      }
      throw failed((error as Error).message);
    }
  }

  /** Reads responses from `socket`; it becomes the connection's socket once authenticated (#open). */
  #attach(socket: net.Socket): void {
    const decoder = new FrameDecoder();
    let closeReason = "closed by the node";
    socket.on("data", (chunk: Buffer) => {
      let payloads: Uint8Array[];
      try {
        payloads = decoder.push(chunk);
      } catch (error) {
        closeReason = `bad frame: ${(error as Error).message}`;
        socket.destroy();
        return;
      }
      for (const payload of payloads) {
        this.#deliver(payload);
      }
    });
    socket.on("error", (error) => {
      closeReason = error.message;
    });
    socket.on("close", () => {
      if (this.#socket === socket) {
        this.#socket = undefined;
      }
      this.#logger.debug("client connection closed", { node: this.nodeId, reason: closeReason, pending: this.#pending.size });
      this.#failPending(new ClientError("CONNECTION_LOST", `connection to node ${this.nodeId} (${this.address}) lost: ${closeReason}`, true));
    });
  }

  #deliver(payload: Uint8Array): void {
    let response: ClientResponse;
    try {
      response = parseResponse(payload);
    } catch (error) {
      this.#logger.warn("dropping a malformed response", { node: this.nodeId, error: (error as Error).message });
      return;
    }
    const pending = this.#pending.get(response.id);
    if (pending === undefined) {
      // A reply to a request that already timed out or was aborted.
      this.#logger.debug("late response ignored", { node: this.nodeId, id: response.id });
      return;
    }
    pending.resolve(response);
  }

  #failPending(error: ClientError): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const request of pending) {
      request.reject(error);
    }
  }
}

/** Checks the fields the client relies on; the rest is typed by the protocol contract. */
function parseResponse(payload: Uint8Array): ClientResponse {
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString("utf8");
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null) {
    throw new ClientError("BAD_RESPONSE", `response frame is not a JSON object: ${text.slice(0, 200)}`, true);
  }
  const record = value as Record<string, unknown>;
  if (typeof record.id !== "number" || typeof record.ok !== "boolean") {
    throw new ClientError("BAD_RESPONSE", `response frame lacks a numeric "id" or boolean "ok": ${text.slice(0, 200)}`, true);
  }
  if (record.ok === false && typeof record.code !== "string") {
    throw new ClientError("BAD_RESPONSE", `error response lacks a "code": ${text.slice(0, 200)}`, true);
  }
  return value as ClientResponse;
}
