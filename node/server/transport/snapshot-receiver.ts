// The receiving end of chunked snapshots for a transport: one reassembler per peer, tied to the
// connection its snapshot arrives on. At most one partial snapshot per peer is held; a first chunk
// replaces it, and a lost connection or a refused chunk discards it.
import type { NodeId } from "../../raft/messages.js";
import type { SnapshotChunk } from "./snapshot-chunk-codec.js";
import { SnapshotReassembler, type ReassemblyResult } from "./snapshot-chunks.js";
import type { Logger } from "../../../lib/logger.js";

interface Assembly<Connection> {
  connection: Connection;
  reassembler: SnapshotReassembler;
  startedAtMs: number;
}

export class SnapshotReceiver<Connection> {
  readonly #assemblies = new Map<NodeId, Assembly<Connection>>();
  readonly #snapshotBytesMax: number | undefined;
  readonly #logger: Logger;

  constructor(options: { snapshotBytesMax?: number | undefined; logger: Logger }) {
    this.#snapshotBytesMax = options.snapshotBytesMax;
    this.#logger = options.logger;
  }

  /** Peers with a snapshot partly received. */
  get partialSnapshots(): number {
    return this.#assemblies.size;
  }

  /** Takes a chunk `peerId` sent on `connection` (already checked to be from that peer, to us). */
  accept(connection: Connection, peerId: NodeId, chunk: SnapshotChunk): ReassemblyResult {
    let assembly = this.#assemblies.get(peerId);
    if (chunk.seq === 0 && assembly?.connection !== connection) {
      assembly = { connection, reassembler: new SnapshotReassembler({ snapshotBytesMax: this.#snapshotBytesMax }), startedAtMs: 0 };
      this.#assemblies.set(peerId, assembly);
    }
    if (assembly === undefined || assembly.connection !== connection) {
      return { status: "refused", reason: `chunk ${chunk.seq} of snapshot ${chunk.snapshotIndex} arrived with no snapshot being assembled on this connection` };
    }
    if (chunk.seq === 0) {
      assembly.startedAtMs = performance.now();
    }
    const result = assembly.reassembler.accept(chunk);
    if (result.status === "partial") {
      return result;
    }
    this.#assemblies.delete(peerId);
    if (result.status === "complete") {
      this.#logger.info("transport: received a snapshot in chunks", {
        peer: peerId,
        index: chunk.snapshotIndex,
        term: chunk.term,
        bytes: chunk.totalBytes,
        chunks: result.chunks,
        ms: Math.round(performance.now() - assembly.startedAtMs),
      });
    }
    return result;
  }

  /** Discards the partial snapshot that was arriving on `connection`, if any. */
  connectionClosed(connection: Connection): void {
    for (const [peerId, assembly] of this.#assemblies) {
      if (assembly.connection === connection) {
        this.#assemblies.delete(peerId);
        this.#logger.info("transport: discarded a partial snapshot: its connection closed", {
          peer: peerId,
          receivedBytes: assembly.reassembler.partialBytes,
        });
      }
    }
  }
}
