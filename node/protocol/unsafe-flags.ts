// The deliberately unsafe switches a node accepts (`--unsafe`, or `node.unsafe` in a workload).
// They exist so that raftlab can prove its checkers catch real Raft bugs; never use them otherwise.
// Each is modelled on a published class of consensus bugs; the README says which fault exposes it.
export const UNSAFE_FLAGS = [
  "stale-reads",
  "ack-before-commit",
  "vote-without-log-check",
  "commit-previous-term",
  "read-without-quorum",
  "append-without-truncate",
  "vote-not-persisted",
  "ack-before-fsync",
  "snapshot-without-sessions",
  "apply-uncommitted",
] as const;
export type UnsafeFlag = (typeof UNSAFE_FLAGS)[number];
