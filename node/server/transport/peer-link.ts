// The outbound half of a peer connection: one TCP connection we dial to one peer, a bounded queue
// of encoded frames, at most one frame stream (a large snapshot's chunks), and reconnection with
// backoff. Inbound connections (tcp-transport.ts) only receive, so each direction has exactly one
// writer.
import net from "node:net";
import type { NodeId } from "../../raft/messages.js";
import { Backoff, type BackoffOptions } from "./backoff.js";
import { HANDSHAKE_FRAME_BYTES_MAX, type DialerHandshake } from "./peer-handshake.js";
import { encodeFrame, FrameDecoder, FrameError } from "./frame-codec.js";
import { CodecError } from "../../../lib/binary-cursor.js";
import { parseHostPort } from "../../../lib/host-port.js";
import type { Logger } from "../../../lib/logger.js";

/** Counters a link updates; owned by the transport, which sums them over all links. */
export interface LinkCounters {
  framesOut: number;
  droppedQueueFull: number;
  reconnects: number;
  connectFailures: number;
}

/**
 * Frames written straight to the socket with backpressure, one at a time between queued frames, so
 * none is ever dropped by the queue and small messages (heartbeats) are not held up behind it.
 */
export interface FrameStream {
  /** The next frame; undefined once every frame was handed out. */
  nextFrame(): Buffer | undefined;
  /** Every frame was handed out. */
  readonly exhausted: boolean;
  /** Called when the last frame was written to the socket (true) or the stream was abandoned (false). */
  finish(ok: boolean): void;
  /** The stream was replaced by a newer one: it ends without a report. */
  cancel(): void;
}

export interface PeerLinkOptions {
  peerId: NodeId;
  address: string;
  /** A fresh handshake (new nonce) for every connection: hello first, then the proof answering the peer's challenge. */
  handshake: () => DialerHandshake;
  /** The peer must answer the hello within this time, or the connection is dropped and retried. */
  handshakeTimeoutMs: number;
  queuedMessagesMax: number;
  queuedBytesMax: number;
  connectTimeoutMs: number;
  backoff: BackoffOptions;
  logger: Logger;
  counters: LinkCounters;
  onUnreachable: (peerId: NodeId) => void;
}

/**
 * Marks a frame that a later frame of the same `key` makes redundant while both wait in the queue:
 * the one of higher `rank` is kept (at the later one's place in the queue).
 */
export interface Supersedes {
  key: string;
  rank: number;
}

/** Stands in the queue for a frame a later one superseded; skipped when writing. */
const SUPERSEDED = Buffer.alloc(0);

/** connecting (TCP) -> handshaking (hello sent, awaiting the peer's challenge) -> open. */
type LinkState = "connecting" | "handshaking" | "open" | "waiting" | "closed";

export class PeerLink {
  readonly peerId: NodeId;
  readonly address: string;
  readonly #options: PeerLinkOptions;
  readonly #backoff: Backoff;
  #state: LinkState = "waiting";
  #socket: net.Socket | undefined;
  #openedAtMs = 0;
  /** performance.now() of the last write of frames on an open connection (0: none yet). */
  #lastWriteMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushScheduled = false;
  /** Frames waiting to be written, oldest first from #queueHead. Invariant: #queuedBytes is their total size. */
  #queue: Buffer[] = [];
  #queueHead = 0;
  #queuedBytes = 0;
  /** Where the queued frame of each supersede key is (absolute position in #queue) and its rank. */
  #supersedable = new Map<string, { position: number; rank: number }>();
  /** Written after the queued frames; kept until its last frame's write completes. */
  #stream: FrameStream | undefined;

  constructor(options: PeerLinkOptions) {
    this.peerId = options.peerId;
    this.address = options.address;
    this.#options = options;
    this.#backoff = new Backoff(options.backoff);
    parseHostPort(options.address); // fail now, not on the first dial
    this.#connect();
  }

  get connected(): boolean {
    return this.#state === "open";
  }

  /**
   * True when this link has been open for at least `forMs` and wrote within the last `recentMs`:
   * we are talking to the peer, so it should be answering (TcpTransport's silent-peer check).
   */
  sendingSteadily(nowMs: number, forMs: number, recentMs: number): boolean {
    return this.#state === "open" && nowMs - this.#openedAtMs >= forMs && nowMs - this.#lastWriteMs <= recentMs;
  }

  /**
   * Drops a connection that has been open for at least `forMs` and dials again (TcpTransport does
   * it when the peer dialed us anew). Returns whether it did.
   */
  redialIfOpenFor(nowMs: number, forMs: number, reason: string): boolean {
    const socket = this.#socket;
    if (this.#state !== "open" || socket === undefined || nowMs - this.#openedAtMs < forMs) {
      return false;
    }
    this.#options.logger.info("transport: redialing peer", { peer: this.peerId, address: this.address, reason });
    socket.destroy();
    return true;
  }

  get queuedMessages(): number {
    return this.#queue.length - this.#queueHead;
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /**
   * Queues one frame. When the queue is full the OLDEST frames are dropped: Raft tolerates loss,
   * and the newest messages carry the current term, commit index and log position, while old
   * ones are the most likely to be stale by the time the peer is reachable again. A frame with
   * `supersedes` replaces a queued one of the same key and lower rank, or is dropped when a queued
   * one ranks as high: the sends of one event-loop turn are written together, so this saves the
   * peer from reading, decoding and stepping messages that say nothing new.
   */
  enqueue(frame: Buffer, supersedes?: Supersedes): void {
    if (this.#state === "closed") {
      return;
    }
    if (supersedes !== undefined && this.#queuedOutranks(supersedes)) {
      return;
    }
    const { queuedMessagesMax, queuedBytesMax, counters } = this.#options;
    if (frame.length > queuedBytesMax) {
      counters.droppedQueueFull += 1;
      return;
    }
    while (this.queuedMessages > 0 && (this.queuedMessages + 1 > queuedMessagesMax || this.#queuedBytes + frame.length > queuedBytesMax)) {
      if (this.#dequeue() !== SUPERSEDED) {
        counters.droppedQueueFull += 1;
      }
    }
    if (supersedes !== undefined) {
      this.#supersedable.set(supersedes.key, { position: this.#queue.length, rank: supersedes.rank });
    }
    this.#queue.push(frame);
    this.#queuedBytes += frame.length;
    this.#scheduleFlush();
  }

  /**
   * True when a queued frame of the same key ranks at least as high (the new frame adds nothing);
   * otherwise a queued frame of the key, if any, is blanked, and the new frame takes its part.
   */
  #queuedOutranks({ key, rank }: Supersedes): boolean {
    const queued = this.#supersedable.get(key);
    if (queued === undefined || queued.position < this.#queueHead || queued.position >= this.#queue.length) {
      return false;
    }
    if (queued.rank >= rank) {
      return true;
    }
    this.#queuedBytes -= this.#queue[queued.position]!.length;
    this.#queue[queued.position] = SUPERSEDED;
    return false;
  }

  /**
   * Starts streaming `stream` on the open connection, replacing (cancelling) any stream in
   * progress. Without an open connection the stream fails at once: a snapshot is only worth
   * sending to a peer we are talking to, and the sender retries after the failure.
   */
  startStream(stream: FrameStream): void {
    if (this.#state !== "open") {
      stream.finish(false);
      return;
    }
    this.#stream?.cancel();
    this.#stream = stream;
    this.#scheduleFlush();
  }

  /** Drops the stream in progress without a report (a newer snapshot went by the queue). */
  cancelStream(): void {
    this.#stream?.cancel();
    this.#stream = undefined;
  }

  close(): void {
    if (this.#state === "closed") {
      return;
    }
    this.#state = "closed";
    this.#abandonStream();
    clearTimeout(this.#timer);
    this.#socket?.destroy();
    this.#socket = undefined;
    this.#queue = [];
    this.#queueHead = 0;
    this.#queuedBytes = 0;
    this.#supersedable.clear();
  }

  #connect(): void {
    const { host, port } = parseHostPort(this.address);
    // Keepalive: the acceptor never writes, so a silently dead peer shows only as probe failures.
    const socket = net.connect({ host, port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 10_000 });
    this.#socket = socket;
    this.#state = "connecting";
    let failure: Error | undefined;
    this.#timer = setTimeout(() => socket.destroy(new Error(`no connection within ${this.#options.connectTimeoutMs} ms`)), this.#options.connectTimeoutMs);
    const handshake = this.#options.handshake();
    const decoder = new FrameDecoder({ frameBytesMax: HANDSHAKE_FRAME_BYTES_MAX });
    socket.once("connect", () => {
      clearTimeout(this.#timer);
      if (this.#state !== "connecting" || this.#socket !== socket) {
        return;
      }
      this.#state = "handshaking";
      socket.write(encodeFrame(handshake.helloFrame()));
      this.#timer = setTimeout(
        () => socket.destroy(new Error(`no handshake challenge within ${this.#options.handshakeTimeoutMs} ms`)),
        this.#options.handshakeTimeoutMs,
      );
    });
    // After the handshake the acceptor never writes; reading keeps the socket flowing so its close is noticed.
    socket.on("data", (chunk: Buffer) => {
      if (this.#state === "handshaking" && this.#socket === socket) {
        this.#onHandshakeData(socket, handshake, decoder, chunk);
      }
    });
    socket.on("end", () => socket.destroy());
    socket.on("drain", () => this.#flush());
    socket.on("error", (error) => {
      failure = error;
    });
    socket.on("close", () => this.#onClose(socket, failure));
  }

  /** The acceptor's challenge: verify its proof, send ours, and the link is open. */
  #onHandshakeData(socket: net.Socket, handshake: DialerHandshake, decoder: FrameDecoder, chunk: Buffer): void {
    let proofFrame: Buffer;
    try {
      const challenge = decoder.push(chunk)[0];
      if (challenge === undefined) {
        return;
      }
      proofFrame = encodeFrame(handshake.answer(challenge));
    } catch (error) {
      if (!(error instanceof CodecError) && !(error instanceof FrameError)) {
        throw error;
      }
      socket.destroy(new Error(`handshake refused: ${error.message}`));
      return;
    }
    clearTimeout(this.#timer);
    socket.write(proofFrame);
    this.#state = "open";
    this.#openedAtMs = performance.now();
    this.#options.logger.info("transport: connected to peer", { peer: this.peerId, address: this.address });
    this.#scheduleFlush();
  }

  #onClose(socket: net.Socket, failure: Error | undefined): void {
    clearTimeout(this.#timer);
    if (this.#socket !== socket || this.#state === "closed") {
      return;
    }
    this.#socket = undefined;
    const wasOpen = this.#state === "open";
    const { logger, counters } = this.#options;
    if (wasOpen) {
      // A connection that held for a while was healthy: start the backoff ladder over.
      if (performance.now() - this.#openedAtMs >= this.#backoff.maxDelayMs) {
        this.#backoff.reset();
      }
      logger.warn("transport: lost connection to peer", { peer: this.peerId, address: this.address, error: failure?.message });
    } else {
      counters.connectFailures += 1;
      // A refused handshake is a configuration problem (another secret or cluster): say so; the
      // backoff bounds how often.
      const fields = { peer: this.peerId, address: this.address, error: failure?.message };
      if (failure?.message.startsWith("handshake refused") === true) {
        logger.warn("transport: peer refused our handshake or failed its own", fields);
      } else {
        logger.debug("transport: could not connect to peer", fields);
      }
    }
    this.#state = "waiting";
    this.#abandonStream();
    const delayMs = this.#backoff.nextDelayMs();
    this.#timer = setTimeout(() => {
      if (this.#state === "waiting") {
        counters.reconnects += 1;
        this.#connect();
      }
    }, delayMs);
    this.#options.onUnreachable(this.peerId);
  }

  /**
   * Writes the queued frames now instead of at the end of the turn (TcpTransport.flush): the
   * pipeline calls it after a pump into an idle pipeline, so a leader's appends leave before the
   * event loop polls again (a poll that finds the WAL write done would otherwise delay them).
   */
  flushNow(): void {
    if (this.#flushScheduled) {
      this.#flush(); // the scheduled flush then finds nothing left to write
    }
  }

  /** Coalesces every send of one event-loop turn into one corked write. */
  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#state !== "open") {
      return;
    }
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    const socket = this.#socket;
    if (this.#state !== "open" || socket === undefined || socket.writableNeedDrain) {
      return; // frames stay in our bounded queue until 'drain' or the next connection
    }
    if (this.queuedMessages === 0 && (this.#stream === undefined || this.#stream.exhausted)) {
      return;
    }
    socket.cork();
    this.#lastWriteMs = performance.now();
    let writable = true;
    while (writable && this.queuedMessages > 0) {
      const frame = this.#dequeue();
      if (frame === SUPERSEDED) {
        continue;
      }
      this.#options.counters.framesOut += 1;
      writable = socket.write(frame);
    }
    while (writable && this.#stream !== undefined && !this.#stream.exhausted) {
      writable = this.#writeStreamFrame(socket, this.#stream);
    }
    socket.uncork();
  }

  /** Writes the stream's next frame; its last frame's write completion finishes the stream. */
  #writeStreamFrame(socket: net.Socket, stream: FrameStream): boolean {
    const frame = stream.nextFrame();
    if (frame === undefined) {
      this.#stream = undefined;
      stream.finish(true);
      return true;
    }
    this.#options.counters.framesOut += 1;
    if (!stream.exhausted) {
      return socket.write(frame);
    }
    return socket.write(frame, (error) => {
      if (this.#stream === stream) {
        this.#stream = undefined;
      }
      stream.finish(error === undefined || error === null);
    });
  }

  #abandonStream(): void {
    const stream = this.#stream;
    this.#stream = undefined;
    stream?.finish(false);
  }

  #dequeue(): Buffer {
    const frame = this.#queue[this.#queueHead]!;
    this.#queueHead += 1;
    this.#queuedBytes -= frame.length;
    if (this.#queueHead === this.#queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
      this.#supersedable.clear();
    } else if (this.#queueHead >= 1024 && this.#queueHead * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead);
      for (const queued of this.#supersedable.values()) {
        queued.position -= this.#queueHead; // below 0: already written, never matched again
      }
      this.#queueHead = 0;
    }
    return frame;
  }
}
