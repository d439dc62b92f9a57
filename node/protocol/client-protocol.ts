// The client port's protocol. Each frame (see node/server/frame-codec.ts) carries one UTF-8 JSON
// object. Requests carry an id the response echoes, so a client may pipeline on one connection.
import type { Json, Operation } from "../../plugins/api.js";
import type { FailpointName } from "./failpoints.js";

/**
 * Exactly-once: the node remembers each session's last sequence number and result in replicated
 * state. A session is opened first (openSession answers its id); a command naming a session the
 * nodes do not hold (never opened, or expired) is refused SESSION_EXPIRED.
 */
export interface ClientSession {
  /** The id openSession answered. */
  clientId: string;
  /** Increases by one per new command; a retry reuses the same seq. */
  seq: number;
}

export type ClientRequest =
  /** A state-changing operation, replicated through the log. */
  | { id: number; type: "command"; op: Operation; session?: ClientSession }
  /** A read-only operation, served with ReadIndex (linearizable) without a log entry. */
  | { id: number; type: "read"; op: Operation }
  /** Opens a client session through the log; the result is the session id (a string). Retrying only opens another. */
  | { id: number; type: "openSession" }
  | { id: number; type: "status" }
  | { id: number; type: "addMember"; nodeId: number; peerAddress: string; clientAddress: string }
  | { id: number; type: "removeMember"; nodeId: number }
  | { id: number; type: "transferLeader"; to: number }
  /**
   * Waits until this node has applied at least `atLeast` (or the request times out), then answers
   * a StateHash: the applied index and a SHA-256 of the plugin's snapshot() bytes at that index.
   * The harness's end-of-run `replicas` check compares them across nodes. Administrative (it
   * serialises the whole state machine), so it needs an authenticated connection.
   */
  | { id: number; type: "stateHash"; atLeast: number }
  /** Test only, refused unless the node runs with --failpoints: arms a failpoint (node/protocol/failpoints.ts). */
  | { id: number; type: "failpoint"; name: FailpointName; action: string }
  /** Starts authenticating this connection (client-auth.ts); answered with { nonce }. */
  | { id: number; type: "authChallenge" }
  /** Proves the cluster secret over the node's nonce; answered with { proof } of the node's own. */
  | { id: number; type: "authenticate"; nonce: string; proof: string };

/** Requests that change the cluster itself: they need an authenticated connection. */
export const ADMIN_REQUESTS: ReadonlySet<ClientRequest["type"]> = new Set(["addMember", "removeMember", "transferLeader", "stateHash"]);

/** A stateHash answer (the `result` of an ok response). */
export interface StateHash {
  /** The node's applied index when the hash was taken (>= the request's atLeast). */
  applied: number;
  /** Lowercase hex SHA-256 of the plugin's snapshot() bytes at `applied`. */
  sha256: string;
  /** Length of those bytes. */
  bytes: number;
}

export type ErrorCode =
  /** This node is not the leader; `leader` says who is, when known. Safe to retry elsewhere: nothing was proposed. */
  | "NOT_LEADER"
  /** The request was malformed or named an unknown operation. Not retried. */
  | "BAD_REQUEST"
  /** Proposed but not known to be committed in time: the outcome is indeterminate. */
  | "TIMEOUT"
  /** Leadership was lost after proposing: the outcome is indeterminate. */
  | "LEADERSHIP_LOST"
  /** The node is overloaded or has no quorum; nothing was proposed. */
  | "UNAVAILABLE"
  /** The command named a session the nodes do not hold (never opened, or expired): this attempt was not applied. */
  | "SESSION_EXPIRED"
  | "SHUTTING_DOWN"
  /**
   * The state machine plugin broke its contract on this command (threw something other than a
   * PluginError, or returned a result JSON cannot encode): every replica answers the same, and
   * whether the state changed is unknown.
   */
  | "PLUGIN_FAILED"
  /** An administrative request on a connection that has not proved the cluster secret, or a failed proof. Nothing was done. */
  | "UNAUTHENTICATED";

/** Whether an error proves the operation did not take effect (fail) or leaves it unknown (info). */
export const DEFINITELY_NOT_APPLIED: ReadonlySet<ErrorCode> = new Set(["NOT_LEADER", "BAD_REQUEST", "UNAVAILABLE", "SESSION_EXPIRED", "UNAUTHENTICATED"]);

export interface LeaderHint {
  nodeId: number;
  /** host:port of the leader's client listener, when known. */
  clientAddress?: string;
}

export interface NodeStatus {
  nodeId: number;
  role: "follower" | "candidate" | "preCandidate" | "leader";
  term: number;
  leader: number;
  commit: number;
  applied: number;
  lastIndex: number;
  voters: number[];
  plugin: string;
}

export type ClientResponse =
  | { id: number; ok: true; result: Json }
  | { id: number; ok: true; status: NodeStatus }
  | { id: number; ok: false; code: ErrorCode; message: string; leader?: LeaderHint };
