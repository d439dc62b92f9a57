// Where the node's unsafe switches (node/protocol/unsafe-flags.ts) reach the pure core, and the
// pipeline's. The switches exist for raftlab's self-tests only.
import type { PipelineUnsafeSwitches } from "../driver/ready-pipeline.js";
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

/** The switches the Ready pipeline implements (node/driver/ready-pipeline.ts). */
export function pipelineUnsafeSwitches(flags: ReadonlySet<UnsafeFlag>): PipelineUnsafeSwitches {
  return {
    voteNotPersisted: flags.has("vote-not-persisted"),
    ackBeforeFsync: flags.has("ack-before-fsync"),
    applyUncommitted: flags.has("apply-uncommitted"),
  };
}
