// Assertions detect programmer errors (a bug in raftlab, or a caller breaking a documented
// contract); they are always on and are never caught to carry on. Operating errors (bad input, a
// dead peer, a full disk) are error classes with a code instead.

/** A broken invariant. Code INVARIANT_VIOLATED (lib/error-codes.ts). */
export class InvariantError extends Error {
  readonly code = "INVARIANT_VIOLATED";
  constructor(message: string) {
    super(`invariant violated: ${message}`);
    this.name = "InvariantError";
  }
}

/** Always-on assertion. Pass a constant string on hot paths so that no message is built eagerly. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) {
    throw new InvariantError(message);
  }
}
