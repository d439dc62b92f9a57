// The Raft settings a real node runs with besides its timing (node-server.ts), shared with
// bench/sim.ts so that the core's throughput is measured under the same flow control.
import type { RaftConfig } from "../raft/raft.js";

export const nodeRaftLimits = {
  preVote: true,
  checkQuorum: true,
  maxMessageBytes: 1024 * 1024,
  maxEntriesPerMessage: 4096,
  maxInflightMessages: 256,
  maxUncommittedEntryBytes: 64 * 1024 * 1024,
} as const satisfies Partial<RaftConfig>;
