// The deepest point a partition search reached, kept for the report: a linearizable prefix and the
// operation that could not follow it.

export interface LongestAttempt {
  /** Local ids of the linearized operations, in linearization order. */
  order: number[];
  /** Model state after each operation of `order`. */
  statesAfter: unknown[];
  /** Local id of the op whose return was reached unlinearized (null when none was). */
  blockedOperation: number | null;
  /** Model state when `blockedOperation` had to be placed. */
  stateBefore: unknown;
}

/** The search's current path, as the tracker reads it. */
export interface SearchPath {
  readonly depth: number;
  /** Local id of the operation taken at `level`. */
  takenAt(level: number): number;
  /** Model state before the step taken at `level` (the current state at `depth`). */
  stateAt(level: number): unknown;
}

export class LongestAttemptTracker {
  attempt: LongestAttempt;
  /** ok operations in `attempt`: attempts are compared by it, since info ops prove nothing. */
  okCount = -1;

  constructor(initialState: unknown) {
    this.attempt = { order: [], statesAfter: [], blockedOperation: null, stateBefore: initialState };
  }

  /** Keeps the dead end with the most ok operations placed (then the fewest info ones). */
  offerDeadEnd(path: SearchPath, okPlaced: number, blockedOperation: number): void {
    if (okPlaced > this.okCount || (okPlaced === this.okCount && (this.attempt.blockedOperation === null || path.depth < this.attempt.order.length))) {
      this.record(path, okPlaced, blockedOperation);
    }
  }

  record(path: SearchPath, okPlaced: number, blockedOperation: number | null): void {
    const depth = path.depth;
    const order: number[] = new Array<number>(depth);
    const statesAfter: unknown[] = new Array<unknown>(depth);
    for (let index = 0; index < depth; index += 1) {
      order[index] = path.takenAt(index);
      statesAfter[index] = path.stateAt(index + 1);
    }
    this.attempt = { order, statesAfter, blockedOperation, stateBefore: path.stateAt(depth) };
    this.okCount = okPlaced;
  }
}
