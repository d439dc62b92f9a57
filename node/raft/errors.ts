// Errors of the Raft core. Expected operating conditions (a proposal that cannot be accepted now)
// are classes with a `code`; broken invariants are assertion failures that must crash the process.

/** A proposal, conf change or transfer the core refused; the caller may retry elsewhere or later. */
export class ProposalDroppedError extends Error {
  readonly code = "PROPOSAL_DROPPED";
  constructor(reason: string) {
    super(`node/raft: proposal dropped: ${reason}`);
    this.name = "ProposalDroppedError";
  }
}

/** The caller stepped a message type that only the core itself may create (hup, beat, checkQuorum). */
export class StepLocalMessageError extends Error {
  readonly code = "RAFT_STEP_LOCAL_MESSAGE";
  constructor(type: string) {
    super(`node/raft: step() refuses the local-only message type "${type}"`);
    this.name = "StepLocalMessageError";
  }
}

/** A broken invariant: a bug in the core or in how the caller drives it. Never caught. */
export class RaftInvariantError extends Error {
  readonly code = "RAFT_INVARIANT";
  constructor(message: string) {
    super(`node/raft: invariant violated: ${message}`);
    this.name = "RaftInvariantError";
  }
}

/** Always-on assertion. Pass a constant string on hot paths so that no message is built eagerly. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) {
    throw new RaftInvariantError(message);
  }
}
