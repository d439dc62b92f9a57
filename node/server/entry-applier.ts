// Applies committed entries and installed snapshots to the node's replicated state: commands go
// to the plugin through the session table, confChange entries to the core (applyConfChange), the
// member address book and the transport's peer list. Reports each outcome to the proposing node's
// waiting client (through ApplyResults). It is the pipeline's AppliedState.
import type { Failpoints } from "./failpoints.js";
import type { AppliedState } from "../driver/ready-pipeline.js";
import type { SnapshotInstaller, StateSerialiser } from "../driver/local-snapshots.js";
import type { ConfChange, ConfState, Entry, Snapshot } from "../raft/messages.js";
import { decodeCommand, decodeMemberContext, EnvelopeError } from "./client-port/command-envelope.js";
import type { CommandOutcome } from "./client-port/sessions.js";
import { decodeConfChangeEntryData } from "./conf-change-data.js";
import type { Logger } from "../../lib/logger.js";
import type { ReplicatedState, StateRestorer } from "./replicated-state.js";

/** Plugin state serialised or restored per turn of the event loop (bench/snapshot-stall.ts measures the longest slice). */
const SNAPSHOT_SLICE_BYTES = 64 * 1024;

/** Where applied outcomes go: the RequestRouter answers the clients waiting for them. */
export interface ApplyResults {
  onCommandApplied(requestId: number, outcome: CommandOutcome): void;
  onConfChangeApplied(requestId: number, confState: ConfState): void;
}

/** The peer transport's member list. */
export interface PeerDirectory {
  addPeer(id: number, address: string): void;
  removePeer(id: number): void;
}

export interface EntryApplierOptions {
  selfId: number;
  state: ReplicatedState;
  /** The core's applyConfChange: the new voters once a confChange entry applies. */
  applyConfChange(change: ConfChange): ConfState;
  peers: PeerDirectory;
  /** The address the command line gives for a peer; it wins over the replicated one (it may be a fault proxy). */
  flagPeerAddress(id: number): string | undefined;
  results: ApplyResults;
  logger: Pick<Logger, "info" | "warn" | "error">;
  initialConfState: ConfState;
  /** beforeApply, beforeSnapshotInstall and afterSnapshotInstall are hit here when armed. */
  failpoints?: Failpoints | undefined;
}

export class EntryApplier implements AppliedState {
  readonly #options: EntryApplierOptions;
  /** Index and term of the last applied entry (or installed snapshot). */
  applied = 0;
  appliedTerm = 0;
  confState: ConfState;
  /** UNSAFE apply-uncommitted: the last command applied ahead of its commit (0: none pending). */
  #appliedAhead = 0;

  constructor(options: EntryApplierOptions) {
    this.#options = options;
    this.confState = { voters: [...options.initialConfState.voters] };
  }

  snapshotData(): Uint8Array {
    return this.#options.state.snapshotData();
  }

  beginSnapshot(): StateSerialiser {
    return this.#options.state.beginSnapshot(SNAPSHOT_SLICE_BYTES);
  }

  installSnapshot(snapshot: Snapshot): void {
    const installer = this.#beginInstall(snapshot, Infinity);
    while (!installer.step()) {
      // Infinity: the whole state in one step
    }
  }

  /** Restores the plugin's state SNAPSHOT_SLICE_BYTES per step; applied moves at the last step. */
  beginInstall(snapshot: Snapshot): SnapshotInstaller {
    return this.#beginInstall(snapshot, SNAPSHOT_SLICE_BYTES);
  }

  #beginInstall(snapshot: Snapshot, sliceBytes: number): SnapshotInstaller {
    const { index } = snapshot.metadata;
    if (index <= this.applied) {
      this.#options.logger.warn("ignored a snapshot at or below the applied index", { index, applied: this.applied });
      return { step: () => true };
    }
    let restorer: StateRestorer | undefined;
    return {
      step: () => {
        if (restorer === undefined) {
          this.#options.failpoints?.hitSync("beforeSnapshotInstall");
          restorer = this.#options.state.beginRestore(snapshot.data, `snapshot at index ${index}`, sliceBytes);
        }
        if (!restorer.step()) {
          return false;
        }
        this.#installed(snapshot);
        return true;
      },
    };
  }

  #installed(snapshot: Snapshot): void {
    const { index, term, confState } = snapshot.metadata;
    this.#appliedAhead = 0;
    this.applied = index;
    this.appliedTerm = term;
    this.confState = { voters: [...confState.voters] };
    for (const id of this.confState.voters) {
      this.#connectPeer(id);
    }
    this.#options.failpoints?.hitSync("afterSnapshotInstall");
  }

  applyEntries(entries: readonly Entry[]): void {
    if (entries.length > 0) {
      this.#options.failpoints?.hitSync("beforeApply");
    }
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
      this.#options.logger.error("skipped a committed entry with a bad envelope", { index: entry.index, error });
      return;
    }
    if ("openSession" in envelope) {
      const clientId = this.#options.state.openSession(entry.index);
      if (envelope.requestId !== undefined) {
        this.#options.results.onCommandApplied(envelope.requestId, { ok: true, result: clientId });
      }
      return;
    }
    const outcome = this.#options.state.applyCommand(envelope);
    if (envelope.requestId !== undefined) {
      this.#options.results.onCommandApplied(envelope.requestId, outcome);
    }
  }

  #applyConfChange(entry: Entry): void {
    const change = decodeConfChangeEntryData(entry.data, entry.index);
    this.confState = this.#options.applyConfChange(change);
    const context = decodeMemberContext(change.context);
    const self = this.#options.selfId;
    if (change.type === "addNode") {
      this.#options.state.addMember(change.nodeId, context);
      this.#connectPeer(change.nodeId);
    } else {
      this.#options.state.removeMember(change.nodeId);
      if (change.nodeId !== self) {
        this.#options.peers.removePeer(change.nodeId);
      }
    }
    this.#options.logger.info("applied a membership change", {
      index: entry.index,
      change: change.type,
      nodeId: change.nodeId,
      voters: this.confState.voters,
      ...(change.type === "removeNode" && change.nodeId === self ? { removedSelf: true } : {}),
    });
    if (context.requestId !== undefined) {
      this.#options.results.onConfChangeApplied(context.requestId, this.confState);
    }
  }

  #connectPeer(id: number): void {
    if (id === this.#options.selfId) {
      return;
    }
    const address = this.#options.flagPeerAddress(id) ?? this.#options.state.members.get(id)?.peerAddress;
    if (address === undefined) {
      this.#options.logger.warn("no peer address known for a member", { nodeId: id });
      return;
    }
    this.#options.peers.addPeer(id, address);
  }
}
