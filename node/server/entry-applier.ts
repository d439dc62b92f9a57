// Applies committed entries and installed snapshots to the node's replicated state: commands go
// to the plugin through the session table, confChange entries to the core (applyConfChange), the
// member address book and the transport's peer list. Answers the proposing node's waiting client.
import type { ConfState, Entry, Snapshot } from "../raft/messages.js";
import { decodeCommand, decodeMemberContext, EnvelopeError } from "./client-port/command-envelope.js";
import { decodeConfChangeEntryData } from "./conf-change-data.js";
import type { NodeServer } from "./node-server.js";
import type { TcpTransport } from "./transport/tcp-transport.js";

export class EntryApplier {
  readonly #server: NodeServer;
  readonly #transport: TcpTransport;
  /** Index and term of the last applied entry (or installed snapshot). */
  applied = 0;
  appliedTerm = 0;
  confState: ConfState;
  /** UNSAFE apply-uncommitted: the last command applied ahead of its commit (0: none pending). */
  #appliedAhead = 0;

  constructor(init: { server: NodeServer; transport: TcpTransport; initialConfState: ConfState }) {
    this.#server = init.server;
    this.#transport = init.transport;
    this.confState = { voters: [...init.initialConfState.voters] };
  }

  installSnapshot(snapshot: Snapshot): void {
    const { index, term, confState } = snapshot.metadata;
    if (index <= this.applied) {
      this.#server.logger.warn("ignored a snapshot at or below the applied index", { index, applied: this.applied });
      return;
    }
    this.#server.state.restore(snapshot.data, `snapshot at index ${index}`);
    this.#appliedAhead = 0;
    this.applied = index;
    this.appliedTerm = term;
    this.confState = { voters: [...confState.voters] };
    for (const id of this.confState.voters) {
      this.#connectPeer(id);
    }
  }

  applyEntries(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.index <= this.applied) {
        continue; // covered by a snapshot installed in this same Ready
      }
      if (entry.index <= this.#appliedAhead) {
        // Applied ahead of its commit (apply-uncommitted): whatever now committed at this index,
        // the state machine already holds what was there then.
        this.applied = entry.index;
        this.appliedTerm = entry.term;
        continue;
      }
      if (entry.index !== this.applied + 1) {
        throw new Error(`invariant: applying entry ${entry.index} after applied index ${this.applied}`);
      }
      if (entry.type === "confChange") {
        this.#applyConfChange(entry);
      } else if (entry.data.length > 0) {
        this.#applyCommand(entry);
      }
      this.applied = entry.index;
      this.appliedTerm = entry.term;
    }
  }

  /**
   * UNSAFE apply-uncommitted: applies the commands among freshly persisted entries before they
   * commit (stopping at a membership change), and answers their clients.
   */
  applyAhead(entries: readonly Entry[]): void {
    for (const entry of entries) {
      const next = Math.max(this.applied, this.#appliedAhead) + 1;
      if (entry.index < next) {
        continue;
      }
      if (entry.index !== next || entry.type !== "normal") {
        return;
      }
      if (entry.data.length > 0) {
        this.#applyCommand(entry);
      }
      this.#appliedAhead = entry.index;
    }
  }

  #applyCommand(entry: Entry): void {
    let envelope;
    try {
      envelope = decodeCommand(entry.data, entry.index);
    } catch (error) {
      if (!(error instanceof EnvelopeError)) {
        throw error;
      }
      // Deterministic on every node: the entry is skipped everywhere.
      this.#server.logger.error("skipped a committed entry with a bad envelope", { index: entry.index, error });
      return;
    }
    const outcome = this.#server.state.applyCommand(envelope);
    if (envelope.requestId !== undefined) {
      this.#server.router.onCommandApplied(envelope.requestId, outcome);
    }
  }

  #applyConfChange(entry: Entry): void {
    const change = decodeConfChangeEntryData(entry.data, entry.index);
    this.confState = this.#server.rawNode.applyConfChange(change);
    const context = decodeMemberContext(change.context);
    const self = this.#server.config.id;
    if (change.type === "addNode") {
      this.#server.state.addMember(change.nodeId, context);
      this.#connectPeer(change.nodeId);
    } else {
      this.#server.state.removeMember(change.nodeId);
      if (change.nodeId !== self) {
        this.#transport.removePeer(change.nodeId);
      }
    }
    this.#server.logger.info("applied a membership change", {
      index: entry.index,
      change: change.type,
      nodeId: change.nodeId,
      voters: this.confState.voters,
      ...(change.type === "removeNode" && change.nodeId === self ? { removedSelf: true } : {}),
    });
    if (context.requestId !== undefined) {
      this.#server.router.onConfChangeApplied(context.requestId, this.confState);
    }
  }

  /** Adds a member to the transport: the flags' address for it wins (it may be a fault proxy). */
  #connectPeer(id: number): void {
    if (id === this.#server.config.id) {
      return;
    }
    const address = this.#server.config.peers.get(id) ?? this.#server.state.members.get(id)?.peerAddress;
    if (address === undefined) {
      this.#server.logger.warn("no peer address known for a member", { nodeId: id });
      return;
    }
    this.#transport.addPeer(id, address);
  }
}
