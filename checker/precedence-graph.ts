// The precedences a model derived from a history (see prepare-history.ts), as the search uses
// them: an operation is a candidate only once every predecessor is linearized, so the search
// keeps, per operation, how many predecessors are still missing, and updates its successors'
// counts on each step and undo.

export class PrecedenceGraph {
  /** Per local op: predecessors not linearized yet; a candidate only at 0. */
  readonly predecessorsLeft: Int32Array;
  /** Successors of local op i: successorList[successorStart[i] .. successorStart[i+1]). */
  private readonly successorStart: Int32Array;
  private readonly successorList: Int32Array;

  /** `pairs` by local id: the first must be linearized before the second. */
  constructor(count: number, pairs: readonly (readonly [number, number])[]) {
    this.predecessorsLeft = new Int32Array(count);
    this.successorStart = new Int32Array(count + 1);
    for (const [before, after] of pairs) {
      this.predecessorsLeft[after] = (this.predecessorsLeft[after] as number) + 1;
      this.successorStart[before + 1] = (this.successorStart[before + 1] as number) + 1;
    }
    for (let local = 0; local < count; local += 1) {
      this.successorStart[local + 1] = (this.successorStart[local + 1] as number) + (this.successorStart[local] as number);
    }
    this.successorList = new Int32Array(pairs.length);
    const filled = this.successorStart.slice(0, count);
    for (const [before, after] of pairs) {
      const slot = filled[before] as number;
      this.successorList[slot] = after;
      filled[before] = slot + 1;
    }
  }

  /** Whether `local` takes part in any precedence, as predecessor or successor. */
  isConstrained(local: number): boolean {
    return this.predecessorsLeft[local] !== 0 || this.successorStart[local] !== this.successorStart[local + 1];
  }

  /** Counts `local`'s linearization (delta -1) or its undoing (+1) for its successors. */
  adjustSuccessors(local: number, delta: number): void {
    const { predecessorsLeft, successorList } = this;
    const end = this.successorStart[local + 1] as number;
    for (let slot = this.successorStart[local] as number; slot < end; slot += 1) {
      const successor = successorList[slot] as number;
      predecessorsLeft[successor] = (predecessorsLeft[successor] as number) + delta;
    }
  }
}
