// Errors of the Raft core. Expected operating conditions (a proposal that cannot be accepted now)
// are classes with a `code`; broken invariants are assertion failures (lib/assert.ts, InvariantError)
// that must crash the process.

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
