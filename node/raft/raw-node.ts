// The core's API (etcd rawnode.go): a pure, single-threaded state machine. Inputs are tick(),
// step() and the propose/read/transfer calls; the output is pulled with ready(), handled by the
// caller (persist entries and hard state, then send messages, then apply), and confirmed with
// advance(). No I/O, no clock, no global randomness.
import type { ConfChange, ConfState, Entry, HardState, Message, NodeId, Snapshot } from "./messages.js";
import { NONE } from "./messages.js";
import { ProposalDroppedError, StepLocalMessageError } from "./errors.js";
import { assert } from "../../lib/assert.js";
import { RaftLog } from "./log.js";
import { EMPTY_BYTES, newMessage, Raft, type RaftConfig, type ReadState, type Role } from "./raft.js";
import { broadcastAppend, leaderApplyConfChange } from "./raft-leader.js";
import { encodeConfChange } from "./conf-change-codec.js";
import type { ProgressState } from "./progress.js";

export type { RaftConfig, ReadState, Role } from "./raft.js";
export { ProposalDroppedError } from "./errors.js";

/** What the server recovered from disk; a brand-new node has hardState {0,0,0} and no entries. */
export interface InitialState {
  hardState: HardState;
  snapshot?: Snapshot;
  entries: Entry[];
  confState: ConfState;
  applied: number;
}

export interface SoftState {
  leader: NodeId;
  role: Role;
}

export interface Ready {
  /** Present only when changed. */
  softState?: SoftState;
  /** Present only when changed; persist before sending messages. */
  hardState?: HardState;
  /** Append to stable storage (truncating any conflicting suffix) BEFORE sending messages. */
  entries: Entry[];
  /** Persist, then install into the state machine. */
  snapshot?: Snapshot;
  /** Apply, in order. */
  committedEntries: Entry[];
  /** Send AFTER entries and hard state are persisted. */
  messages: Message[];
  /** Reads safe to serve once applied >= index. */
  readStates: ReadState[];
  /** Entries, term or vote changed: the writes must be fsynced. */
  mustSync: boolean;
}

export interface NodeStatus {
  id: NodeId;
  term: number;
  vote: NodeId;
  commit: number;
  applied: number;
  lastIndex: number;
  leader: NodeId;
  role: Role;
  voters: NodeId[];
  progress?: Record<NodeId, { match: number; next: number; state: ProgressState }>;
}

const NETWORK_ONLY_FORBIDDEN = new Set(["hup", "beat", "checkQuorum"]);

export class RawNode {
  readonly raft: Raft;
  #previousSoft: SoftState;
  #previousHard: HardState;
  /** Indexes of confChange entries handed out to apply, oldest first: applyConfChange pairs with them. */
  readonly #confEntryIndexes: number[] = [];
  /** Voter sets by the index that produced them, oldest first, to label snapshots taken at an index. */
  #confHistory: { index: number; voters: NodeId[] }[];

  constructor(config: RaftConfig, initial: InitialState) {
    const { hardState, snapshot } = initial;
    const log = new RaftLog(snapshot, initial.entries, hardState.commit, initial.applied);
    this.raft = new Raft(config, log, initial.confState.voters, hardState.term, hardState.vote);
    this.#previousSoft = { leader: NONE, role: "follower" };
    this.#previousHard = { term: hardState.term, vote: hardState.vote, commit: hardState.commit };
    this.#confHistory = [{ index: initial.applied, voters: [...this.raft.voters] }];
  }

  tick(): void {
    this.raft.tick();
  }

  /** Steps a message from the network. Proposals forwarded to a leader that cannot take them are dropped. */
  step(message: Message): void {
    if (NETWORK_ONLY_FORBIDDEN.has(message.type)) {
      throw new StepLocalMessageError(message.type);
    }
    try {
      this.raft.step(message);
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) {
        throw error;
      }
    }
  }

  campaign(): void {
    this.raft.step(newMessage("hup", this.raft.id, { from: this.raft.id }));
  }

  /** Throws ProposalDroppedError (code PROPOSAL_DROPPED) when it cannot be accepted now. */
  propose(data: Uint8Array): void {
    this.raft.step(newMessage("prop", NONE, { entries: [{ term: 0, index: 0, type: "normal", data }] }));
  }

  /** Proposes many commands at once (one message, one broadcast). */
  proposeBatch(commands: readonly Uint8Array[]): void {
    const entries: Entry[] = new Array<Entry>(commands.length);
    for (let i = 0; i < commands.length; i++) {
      entries[i] = { term: 0, index: 0, type: "normal", data: commands[i] as Uint8Array };
    }
    this.raft.step(newMessage("prop", NONE, { entries }));
  }

  proposeConfChange(change: ConfChange): void {
    this.raft.step(newMessage("prop", NONE, { entries: [{ term: 0, index: 0, type: "confChange", data: encodeConfChange(change) }] }));
  }

  /** Called by the application as it applies a committed confChange entry; returns the new voters. */
  applyConfChange(change: ConfChange): ConfState {
    const r = this.raft;
    const entryIndex = this.#confEntryIndexes.shift() ?? r.log.applying;
    if (entryIndex <= r.log.snapshotIndex && r.log.unstable.snapshot !== undefined) {
      // A snapshot newer than this entry was installed meanwhile; its configuration already wins.
      return { voters: [...r.voters] };
    }
    if (change.type === "addNode") {
      if (!r.voters.includes(change.nodeId)) {
        r.voters = [...r.voters, change.nodeId].sort((a, b) => a - b);
      }
    } else {
      r.voters = r.voters.filter((id) => id !== change.nodeId);
    }
    this.#confHistory.push({ index: entryIndex, voters: [...r.voters] });
    if (r.role === "leader") {
      leaderApplyConfChange(r, change.type, change.nodeId);
    }
    r.trace(() => `${r.id} applied ${change.type} ${change.nodeId} at index ${entryIndex}: voters ${r.voters.join(",")}`);
    return { voters: [...r.voters] };
  }

  readIndex(context: Uint8Array): void {
    this.raft.step(newMessage("readIndex", NONE, { context }));
  }

  transferLeader(to: NodeId): void {
    this.raft.step(newMessage("transferLeader", NONE, { from: to }));
  }

  reportUnreachable(id: NodeId): void {
    const progress = this.raft.role === "leader" ? this.raft.progress.get(id) : undefined;
    if (progress?.state === "replicate") {
      progress.becomeProbe();
    }
  }

  /** The snapshot message to `id` was handed to the network (ok) or could not be sent. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    const progress = this.raft.role === "leader" ? this.raft.progress.get(id) : undefined;
    if (progress?.state !== "snapshot") {
      return;
    }
    if (!ok) {
      progress.pendingSnapshot = 0;
    }
    // Wait for the follower's answer (or the next heartbeat answer) before sending again.
    progress.becomeProbe();
    progress.probeSent = true;
  }

  /**
   * Removes and returns the pending messages `select` picks, ahead of the Ready that would carry
   * them: for messages that depend on no write (heartbeats, heartbeat responses) when the caller
   * cannot take a Ready yet. The caller is responsible for the choice being safe.
   */
  takeMessages(select: (message: Message) => boolean): Message[] {
    // No #flush(): the appends batched for the next Ready stay batched.
    if (!this.raft.msgs.some(select)) {
      return []; // the common case under load: nothing urgent, so no copy of the queue
    }
    const taken: Message[] = [];
    const kept: Message[] = [];
    for (const message of this.raft.msgs) {
      (select(message) ? taken : kept).push(message);
    }
    this.raft.msgs = kept;
    return taken;
  }

  /** A snapshot from the leader is waiting to be handed out in a Ready, or handed out and not yet advanced. */
  hasPendingSnapshot(): boolean {
    return this.raft.log.unstable.snapshot !== undefined;
  }

  /** The app holds a snapshot of its state at index (<= applied): keep it to send, drop older entries. */
  compact(index: number, data: Uint8Array): void {
    let voters: NodeId[] | undefined;
    for (const record of this.#confHistory) {
      if (record.index <= index) {
        voters = record.voters;
      }
    }
    assert(voters !== undefined, `compact(${index}): no configuration known at or before that index`);
    this.raft.log.compact(index, data, { voters });
    // Keep the configuration in force at index (the newest one at or before it) and every later one.
    let inForce = 0;
    this.#confHistory.forEach((record, i) => {
      if (record.index <= index) {
        inForce = i;
      }
    });
    this.#confHistory = this.#confHistory.slice(inForce);
  }

  #flush(): void {
    if (this.raft.needsBroadcast && this.raft.role === "leader") {
      broadcastAppend(this.raft);
    }
    this.raft.needsBroadcast = false;
  }

  #softState(): SoftState {
    return { leader: this.raft.lead, role: this.raft.role };
  }

  #hardState(): HardState {
    return { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.committed };
  }

  hasReady(): boolean {
    this.#flush();
    const r = this.raft;
    const soft = this.#previousSoft;
    const hard = this.#previousHard;
    return (
      r.msgs.length > 0 ||
      r.log.hasNextUnstableEntries() ||
      r.log.hasNextCommittedEntries() ||
      (r.log.unstable.snapshot !== undefined && !r.log.unstable.snapshotInProgress) ||
      r.readStates.length > 0 ||
      soft.leader !== r.lead ||
      soft.role !== r.role ||
      hard.term !== r.term ||
      hard.vote !== r.vote ||
      hard.commit !== r.log.committed
    );
  }

  ready(): Ready {
    this.#flush();
    const r = this.raft;
    const log = r.log;
    const unstable = log.unstable;
    const entries = log.nextUnstableEntries();
    const committedEntries = log.nextCommittedEntries();
    const ready: Ready = {
      entries,
      committedEntries,
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: entries.length > 0,
    };
    if (unstable.snapshot !== undefined && !unstable.snapshotInProgress) {
      ready.snapshot = unstable.snapshot;
      ready.mustSync = true;
    }
    const soft = this.#softState();
    if (soft.leader !== this.#previousSoft.leader || soft.role !== this.#previousSoft.role) {
      ready.softState = soft;
      this.#previousSoft = soft;
    }
    const hard = this.#hardState();
    const previous = this.#previousHard;
    if (hard.term !== previous.term || hard.vote !== previous.vote || hard.commit !== previous.commit) {
      ready.hardState = hard;
      if (hard.term !== previous.term || hard.vote !== previous.vote) {
        ready.mustSync = true;
      }
      this.#previousHard = hard;
    }
    r.msgs = [];
    r.readStates = [];
    unstable.acceptInProgress(log.lastIndex());
    if (committedEntries.length > 0) {
      const last = committedEntries[committedEntries.length - 1] as Entry;
      log.applying = last.index;
      let bytes = 0;
      for (const entry of committedEntries) {
        bytes += entry.data.length;
        if (entry.type === "confChange") {
          this.#confEntryIndexes.push(entry.index);
        }
      }
      if (r.role === "leader") {
        r.uncommittedSize = Math.max(0, r.uncommittedSize - bytes);
      }
    }
    return ready;
  }

  advance(ready: Ready): void {
    const log = this.raft.log;
    const lastEntry = ready.entries[ready.entries.length - 1];
    if (lastEntry !== undefined) {
      log.unstable.stableTo(lastEntry.index, log.term(lastEntry.index) === lastEntry.term);
    }
    if (ready.snapshot !== undefined) {
      const index = ready.snapshot.metadata.index;
      log.unstable.stableSnapshotTo(index);
      if (index === log.snapshotIndex) {
        log.applied = Math.max(log.applied, index);
        this.#confHistory = [{ index, voters: [...ready.snapshot.metadata.confState.voters] }];
      }
    }
    const lastCommitted = ready.committedEntries[ready.committedEntries.length - 1];
    if (lastCommitted !== undefined) {
      log.appliedTo(lastCommitted.index);
    }
  }

  status(): NodeStatus {
    const r = this.raft;
    const status: NodeStatus = {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      leader: r.lead,
      role: r.role,
      voters: [...r.voters],
    };
    if (r.role === "leader") {
      status.progress = {};
      for (const [id, progress] of r.progress) {
        status.progress[id] = { match: progress.match, next: progress.next, state: progress.state };
      }
    }
    return status;
  }
}

export { EMPTY_BYTES };
