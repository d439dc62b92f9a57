// Wire-level types of the Raft core. The core never serialises them; node/server's codec does.
// Node ids are small positive integers; 0 means "none".

export type NodeId = number;
export const NONE: NodeId = 0;

export type EntryType = "normal" | "confChange";

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  /** normal: the application's command bytes (empty for a leader's no-op); confChange: an encoded ConfChange. */
  data: Uint8Array;
}

export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

/** The voters of a configuration; learners are not modelled (one-server-at-a-time changes only). */
export interface ConfState {
  voters: NodeId[];
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  /** The application's state machine bytes at metadata.index. */
  data: Uint8Array;
}

export type ConfChangeType = "addNode" | "removeNode";

export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  /** Opaque to the core: the server puts the new node's peer address here. */
  context: Uint8Array;
}

export type MessageType =
  // local-only messages (never sent over a network)
  | "hup" // start an election (tick or campaign)
  | "beat" // leader: send heartbeats
  | "prop" // proposal (may be forwarded follower -> leader)
  | "readIndex" // read request (may be forwarded follower -> leader)
  | "readIndexResp"
  | "transferLeader"
  | "checkQuorum"
  // network messages
  | "app"
  | "appResp"
  | "vote"
  | "voteResp"
  | "preVote"
  | "preVoteResp"
  | "heartbeat"
  | "heartbeatResp"
  | "snap"
  | "timeoutNow";

export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  /** app: term of the entry before `entries`; vote: candidate's last log term. */
  logTerm: number;
  /** app: index of the entry before `entries`; appResp: matched/rejected index; vote: last log index. */
  index: number;
  entries: Entry[];
  commit: number;
  reject: boolean;
  /** appResp with reject: the follower's hint for fast backtracking (its last index or conflict index). */
  rejectHint: number;
  /** appResp with reject: the term at rejectHint on the follower (0 if none). */
  hintTerm: number;
  snapshot?: Snapshot;
  /** heartbeat / readIndex: the read request context; echoed back. */
  context: Uint8Array;
}
