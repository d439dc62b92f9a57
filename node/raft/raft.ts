// The Raft state machine (etcd raft.go): state, role transitions and the message dispatch common
// to every role. The role is a swapped pair of functions (stepRole, tickRole) set by becomeX; the
// leader's and the other roles' handlers live in raft-leader.ts and raft-follower.ts.
import type { Entry, Message, MessageType, NodeId } from "./messages.js";
import { NONE } from "./messages.js";
import { assert } from "../../lib/assert.js";
import { RaftLog } from "./log.js";
import { Progress } from "./progress.js";
import { ReadOnly } from "./read-only.js";
import type { SeededRng } from "../../lib/rng.js";
import { voteResult, type VoteResult } from "./quorum.js";
import { stepLeader, tickHeartbeat, appendEntries } from "./raft-leader.js";
import { stepCandidate, stepFollower, tickElection } from "./raft-follower.js";

export type Role = "follower" | "preCandidate" | "candidate" | "leader";

export interface RaftConfig {
  id: NodeId;
  /** Ticks without hearing from a leader before campaigning; randomized in [electionTicks, 2*electionTicks). */
  electionTicks: number;
  heartbeatTicks: number;
  preVote: boolean;
  checkQuorum: boolean;
  /** Bytes of entry data per app message (at least one entry is always sent). */
  maxMessageBytes: number;
  maxEntriesPerMessage: number;
  /** Pipelining window: app messages in flight per follower in replicate state. */
  maxInflightMessages: number;
  /** The leader drops proposals once this many bytes of entry data are uncommitted. */
  maxUncommittedEntryBytes: number;
  rng: SeededRng;
  /** Unsafe switch for checker self-tests: grant votes without the log up-to-date check. */
  unsafeVoteWithoutLogCheck?: boolean;
  /** Unsafe: commit by counting replicas of an entry of an earlier term (the paper's Figure 8). */
  unsafeCommitPreviousTerm?: boolean;
  /** Unsafe: answer ReadIndex at once, without the heartbeat round that confirms leadership. */
  unsafeReadWithoutQuorum?: boolean;
  /** Unsafe: a follower keeps its conflicting suffix instead of truncating it (Log Matching broken). */
  unsafeAppendWithoutTruncate?: boolean;
  /** Optional trace hook; called only on rare events (role changes), never per entry. */
  logger?: (line: string) => void;
}

/** The core's unsafe switches (node/protocol/unsafe-flags.ts names them for the server). */
export type UnsafeCoreSwitches = Pick<
  RaftConfig,
  "unsafeVoteWithoutLogCheck" | "unsafeCommitPreviousTerm" | "unsafeReadWithoutQuorum" | "unsafeAppendWithoutTruncate"
>;

export interface ReadState {
  index: number;
  context: Uint8Array;
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);
const NO_ENTRIES: Entry[] = [];
/** Context of a vote request caused by a leadership transfer: it bypasses the leader lease. */
export const TRANSFER_CONTEXT: Uint8Array = Uint8Array.of(0x74, 0x72, 0x61, 0x6e, 0x73, 0x66, 0x65, 0x72);

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) {
    return false;
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return false;
    }
  }
  return true;
}

export function newMessage(type: MessageType, to: NodeId, fields?: Partial<Message>): Message {
  const message: Message = {
    type,
    from: NONE,
    to,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: NO_ENTRIES,
    commit: 0,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    context: EMPTY_BYTES,
  };
  return fields === undefined ? message : Object.assign(message, fields);
}

type CampaignKind = "preElection" | "election" | "transfer";

export class Raft {
  readonly id: NodeId;
  readonly config: RaftConfig;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  role: Role = "follower";
  readonly log: RaftLog;
  /** Sorted voter ids of the applied configuration. */
  voters: NodeId[];
  /** Leader only: one entry per voter, self included. */
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();
  /** Outgoing messages, drained by each Ready. */
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  leadTransferee: NodeId = NONE;
  /** No new conf change may be proposed until the entry at this index is applied. */
  pendingConfIndex = 0;
  /** Leader: bytes of entry data appended in this term and not yet handed out as committed. */
  uncommittedSize = 0;
  readonly readOnly = new ReadOnly();
  /** Leader: reads that arrived before an entry of this term committed. */
  pendingReadIndexMessages: Message[] = [];
  /** Leader: entries or the commit index moved; send apps when the next Ready is built. */
  needsBroadcast = false;
  stepRole: (r: Raft, m: Message) => void = stepFollower;
  tickRole: (r: Raft) => void = tickElection;

  constructor(config: RaftConfig, log: RaftLog, voters: readonly NodeId[], term: number, vote: NodeId) {
    assert(config.id > 0, "raft: config.id must be > 0");
    assert(config.electionTicks > config.heartbeatTicks && config.heartbeatTicks > 0, "raft: need electionTicks > heartbeatTicks > 0");
    assert(config.maxInflightMessages > 0 && config.maxEntriesPerMessage > 0 && config.maxMessageBytes > 0, "raft: limits must be > 0");
    this.id = config.id;
    this.config = config;
    this.log = log;
    this.voters = [...voters].sort((a, b) => a - b);
    this.becomeFollower(term, NONE);
    this.vote = vote;
  }

  trace(line: () => string): void {
    this.config.logger?.(line());
  }

  promotable(): boolean {
    return this.voters.includes(this.id) && this.log.unstable.snapshot === undefined;
  }

  quorumIsSelf(): boolean {
    return this.voters.length === 1 && this.voters[0] === this.id;
  }

  send(message: Message): void {
    if (message.from === NONE) {
      message.from = this.id;
    }
    const type = message.type;
    if (type === "vote" || type === "voteResp" || type === "preVote" || type === "preVoteResp") {
      assert(message.term !== 0, "raft: vote messages carry an explicit term");
    } else if (type !== "prop" && type !== "readIndex" && type !== "transferLeader") {
      message.term = this.term;
    }
    this.msgs.push(message);
  }

  resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.config.electionTicks + this.config.rng.int(this.config.electionTicks);
  }

  reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = NONE;
    this.votes.clear();
    this.progress.clear();
    this.readOnly.reset();
    this.pendingReadIndexMessages = [];
    this.uncommittedSize = 0;
    this.needsBroadcast = false;
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.stepRole = stepFollower;
    this.tickRole = tickElection;
    this.lead = lead;
    this.role = "follower";
    this.trace(() => `${this.id} became follower at term ${term}, leader ${lead}`);
  }

  becomePreCandidate(): void {
    assert(this.role !== "leader", "raft: leader -> preCandidate");
    // Like a candidate but keeps term and vote: a pre-election must not disturb anyone.
    this.stepRole = stepCandidate;
    this.tickRole = tickElection;
    this.votes.clear();
    this.lead = NONE;
    this.role = "preCandidate";
    this.trace(() => `${this.id} became preCandidate at term ${this.term}`);
  }

  becomeCandidate(): void {
    assert(this.role !== "leader", "raft: leader -> candidate");
    this.reset(this.term + 1);
    this.stepRole = stepCandidate;
    this.tickRole = tickElection;
    this.vote = this.id;
    this.role = "candidate";
    this.trace(() => `${this.id} became candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    assert(this.role === "candidate", "raft: only a candidate becomes leader");
    this.reset(this.term);
    this.stepRole = stepLeader;
    this.tickRole = tickHeartbeat;
    this.lead = this.id;
    this.role = "leader";
    const lastIndex = this.log.lastIndex();
    for (const voter of this.voters) {
      this.progress.set(voter, this.newProgress(lastIndex));
    }
    const self = this.progress.get(this.id);
    assert(self !== undefined, "raft: a leader is a voter");
    self.match = lastIndex;
    self.becomeReplicate();
    // Conservative: a conf change may still be unapplied somewhere in the log.
    this.pendingConfIndex = lastIndex;
    // Figure 8: entries of older terms commit only through an entry of this term. The unsafe
    // commit-previous-term switch counts old entries directly, which is why it needs no such entry.
    if (this.config.unsafeCommitPreviousTerm !== true) {
      const appended = appendEntries(this, [{ term: 0, index: 0, type: "normal", data: EMPTY_BYTES }]);
      assert(appended, "raft: the leader's empty entry is never dropped");
    } else {
      this.needsBroadcast = true; // announce the leadership at once, as the empty entry would
    }
    this.trace(() => `${this.id} became leader at term ${this.term}`);
  }

  newProgress(lastIndex: number): Progress {
    const progress = new Progress({ match: 0, next: lastIndex + 1, maxInflight: this.config.maxInflightMessages });
    progress.recentActive = true;
    return progress;
  }

  hup(kind: CampaignKind): void {
    if (this.role === "leader") {
      return;
    }
    if (!this.promotable()) {
      this.trace(() => `${this.id} is not promotable and does not campaign`);
      return;
    }
    if (this.log.hasUnappliedConfChanges()) {
      // The configuration we would count votes in may be about to change.
      this.trace(() => `${this.id} cannot campaign at term ${this.term}: unapplied conf changes`);
      return;
    }
    this.campaign(kind);
  }

  campaign(kind: CampaignKind): void {
    let voteType: MessageType;
    let term: number;
    if (kind === "preElection") {
      this.becomePreCandidate();
      voteType = "preVote";
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = "vote";
      term = this.term;
    }
    if (this.poll(this.id, true) === "won") {
      // A single-voter configuration wins at once.
      if (kind === "preElection") {
        this.campaign("election");
      } else {
        this.becomeLeader();
      }
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    const context = kind === "transfer" ? TRANSFER_CONTEXT : EMPTY_BYTES;
    for (const voter of this.voters) {
      if (voter !== this.id) {
        this.send(newMessage(voteType, voter, { term, index: lastIndex, logTerm: lastTerm, context }));
      }
    }
  }

  poll(from: NodeId, granted: boolean): VoteResult {
    if (!this.votes.has(from)) {
      this.votes.set(from, granted);
    }
    return voteResult(this.voters, this.votes);
  }

  /** Every message enters here; the term rules are common to all roles (§5.1, §9.6 PreVote). */
  step(m: Message): void {
    if (m.term === 0) {
      // Local message, or a forwarded prop/readIndex/transferLeader.
    } else if (m.term > this.term) {
      if (m.type === "vote" || m.type === "preVote") {
        const force = bytesEqual(m.context, TRANSFER_CONTEXT);
        const inLease = this.config.checkQuorum && this.lead !== NONE && this.electionElapsed < this.config.electionTicks;
        if (!force && inLease) {
          // Leader lease: we heard from a live leader recently, so this candidate cannot win.
          return;
        }
      }
      if (m.type === "preVote" || (m.type === "preVoteResp" && !m.reject)) {
        // A pre-vote does not change our term; a granted pre-vote reply is counted below.
      } else if (m.type === "app" || m.type === "heartbeat" || m.type === "snap") {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.config.checkQuorum || this.config.preVote) && (m.type === "heartbeat" || m.type === "app")) {
        // A stale leader cut off from us: tell it our term so it steps down.
        this.send(newMessage("appResp", m.from));
      } else if (m.type === "preVote") {
        this.send(newMessage("preVoteResp", m.from, { term: this.term, reject: true }));
      }
      return;
    }

    switch (m.type) {
      case "hup":
        this.hup(this.config.preVote ? "preElection" : "election");
        return;
      case "vote":
      case "preVote":
        this.handleVoteRequest(m);
        return;
      default:
        this.stepRole(this, m);
    }
  }

  handleVoteRequest(m: Message): void {
    const canVote = this.vote === m.from || (this.vote === NONE && this.lead === NONE) || (m.type === "preVote" && m.term > this.term);
    const logOk = this.config.unsafeVoteWithoutLogCheck === true || this.log.isUpToDate(m.index, m.logTerm);
    const responseType = m.type === "vote" ? "voteResp" : "preVoteResp";
    if (canVote && logOk) {
      this.send(newMessage(responseType, m.from, { term: m.term }));
      if (m.type === "vote") {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send(newMessage(responseType, m.from, { term: this.term, reject: true }));
    }
  }

  tick(): void {
    this.tickRole(this);
  }
}
