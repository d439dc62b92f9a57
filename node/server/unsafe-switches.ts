// Where the node's unsafe switches (node/protocol/unsafe-flags.ts) reach the pure core, and the
// small helpers the server's own switches use. The switches exist for raftlab's self-tests only.
import type { Message } from "../raft/messages.js";
import type { UnsafeCoreSwitches } from "../raft/raft.js";
import type { UnsafeFlag } from "../protocol/unsafe-flags.js";

export function coreUnsafeSwitches(flags: ReadonlySet<UnsafeFlag>): UnsafeCoreSwitches {
  return {
    unsafeVoteWithoutLogCheck: flags.has("vote-without-log-check"),
    unsafeCommitPreviousTerm: flags.has("commit-previous-term"),
    unsafeReadWithoutQuorum: flags.has("read-without-quorum"),
    unsafeAppendWithoutTruncate: flags.has("append-without-truncate"),
  };
}

/** Splits messages into [matching, others], keeping each side's order. */
export function partitionMessages(messages: readonly Message[], matches: (message: Message) => boolean): [Message[], Message[]] {
  const matching: Message[] = [];
  const others: Message[] = [];
  for (const message of messages) {
    (matches(message) ? matching : others).push(message);
  }
  return [matching, others];
}
