// A lean pipelined client connection for benchmarks: no per-request timers or promises beyond
// one callback per request, so the load generator costs little of the CPU the nodes share.
import net from "node:net";
import type { ClientRequest, ClientResponse } from "../node/protocol/client-protocol.js";
import { encodeFrame, FrameDecoder } from "../node/server/transport/frame-codec.js";
import { parseHostPort } from "../lib/host-port.js";

export type ResponseCallback = (response: ClientResponse | undefined) => void;

type RequestBody = ClientRequest extends infer R ? (R extends ClientRequest ? Omit<R, "id"> : never) : never;

export class BenchConnection {
  readonly #socket: net.Socket;
  readonly #pending = new Map<number, ResponseCallback>();
  readonly #decoder = new FrameDecoder();
  #nextId = 1;
  #closed = false;
  #corked = false;
  readonly ready: Promise<void>;

  constructor(readonly address: string) {
    this.#socket = net.connect({ ...parseHostPort(address), noDelay: true });
    this.ready = new Promise((resolve, reject) => {
      this.#socket.once("connect", () => resolve());
      this.#socket.once("error", reject);
    });
    this.#socket.on("error", () => undefined);
    this.#socket.on("data", (chunk: Buffer) => {
      let frames: Uint8Array[];
      try {
        frames = this.#decoder.push(chunk);
      } catch {
        this.#socket.destroy();
        return;
      }
      for (const frame of frames) {
        const response = JSON.parse(Buffer.from(frame.buffer, frame.byteOffset, frame.length).toString("utf8")) as ClientResponse;
        const callback = this.#pending.get(response.id);
        if (callback !== undefined) {
          this.#pending.delete(response.id);
          callback(response);
        }
      }
    });
    this.#socket.on("close", () => {
      this.#closed = true;
      const callbacks = [...this.#pending.values()];
      this.#pending.clear();
      for (const callback of callbacks) {
        callback(undefined);
      }
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a request; the callback gets the response, or undefined if the connection dies first. */
  send(body: RequestBody, callback: ResponseCallback): void {
    if (this.#closed) {
      queueMicrotask(() => callback(undefined));
      return;
    }
    const id = this.#nextId++;
    this.#pending.set(id, callback);
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.#socket.uncork();
      });
    }
    this.#socket.write(encodeFrame(Buffer.from(JSON.stringify({ ...body, id }), "utf8")));
  }

  request(body: RequestBody): Promise<ClientResponse | undefined> {
    return new Promise((resolve) => this.send(body, resolve));
  }

  close(): void {
    this.#socket.destroy();
  }
}
