// The deliberately unsafe switches a node accepts (`--unsafe`, or `node.unsafe` in a workload).
// They exist so that raftlab can prove its checkers catch real Raft bugs; never use them otherwise.
export const UNSAFE_FLAGS = ["stale-reads", "ack-before-commit", "vote-without-log-check"] as const;
export type UnsafeFlag = (typeof UNSAFE_FLAGS)[number];
