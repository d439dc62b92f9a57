// One snap message on its way to a peer as chunk frames (a FrameStream for peer-link.ts). It reports
// its outcome once: sent when the last chunk's write completed, failed when the connection was
// lost first; a stream replaced by a newer snapshot for the same peer reports nothing, since the
// core is already waiting on the newer one.
import type { Message, NodeId } from "../../raft/messages.js";
import { FRAME_HEADER_BYTES, sealFrame } from "./frame-codec.js";
import type { FrameStream } from "./peer-link.js";
import { encodeSnapshotChunk } from "./snapshot-chunk-codec.js";
import { SnapshotChunker } from "./snapshot-chunks.js";
import type { Logger } from "../../../lib/logger.js";

export interface SnapshotStreamOptions {
  message: Message;
  chunkBytes: number;
  logger: Logger;
  /** Called at most once with the outcome. */
  onFinished: (peerId: NodeId, ok: boolean) => void;
}

export class SnapshotStream implements FrameStream {
  readonly #chunker: SnapshotChunker;
  readonly #options: SnapshotStreamOptions;
  readonly #startedAtMs = performance.now();
  #ended = false;

  constructor(options: SnapshotStreamOptions) {
    this.#options = options;
    this.#chunker = new SnapshotChunker(options.message, options.chunkBytes);
    options.logger.info("transport: streaming a snapshot", this.#fields());
  }

  get exhausted(): boolean {
    return this.#chunker.done;
  }

  nextFrame(): Buffer | undefined {
    const chunk = this.#chunker.next();
    return chunk === undefined ? undefined : sealFrame(encodeSnapshotChunk(chunk, FRAME_HEADER_BYTES));
  }

  finish(ok: boolean): void {
    if (this.#ended) {
      return;
    }
    this.#ended = true;
    const fields = { ...this.#fields(), chunksWritten: this.#chunker.sent, ms: Math.round(performance.now() - this.#startedAtMs) };
    if (ok) {
      this.#options.logger.info("transport: snapshot sent", fields);
    } else {
      this.#options.logger.warn("transport: snapshot stream failed; the leader will send it again", fields);
    }
    this.#options.onFinished(this.#options.message.to, ok);
  }

  cancel(): void {
    if (!this.#ended) {
      this.#ended = true;
      this.#options.logger.info("transport: snapshot stream replaced by a newer one", { ...this.#fields(), chunksWritten: this.#chunker.sent });
    }
  }

  #fields(): Record<string, unknown> {
    const { message } = this.#options;
    return {
      peer: message.to,
      term: message.term,
      index: message.snapshot?.metadata.index,
      bytes: this.#chunker.totalBytes,
      chunks: this.#chunker.count,
    };
  }
}
