// The search's candidates, one stack for all levels: a level owns a contiguous slice, each
// candidate with its call node, its rank (lower is tried first) and the state it leads to.

export class CandidatePool<S> {
  node = new Int32Array(256);
  rank = new Float64Array(256);
  readonly state: S[] = [];
  readonly stateKey: string[] = [];

  /** Puts a candidate at `slot`, growing the pool when needed. */
  set(slot: number, node: number, rank: number, state: S, stateKey: string): void {
    if (slot >= this.node.length) {
      this.grow(slot + 1);
    }
    this.node[slot] = node;
    this.rank[slot] = rank;
    this.state[slot] = state;
    this.stateKey[slot] = stateKey;
  }

  /** Insertion sort of [start, end) by rank: levels hold a few dozen candidates at most. */
  sort(start: number, end: number): void {
    const { node: poolNode, rank: poolRank, state: poolState, stateKey: poolStateKey } = this;
    for (let index = start + 1; index < end; index += 1) {
      const rank = poolRank[index] as number;
      if (rank >= (poolRank[index - 1] as number)) {
        continue;
      }
      const node = poolNode[index] as number;
      const state = poolState[index] as S;
      const stateKey = poolStateKey[index] as string;
      let hole = index;
      while (hole > start && (poolRank[hole - 1] as number) > rank) {
        poolNode[hole] = poolNode[hole - 1] as number;
        poolRank[hole] = poolRank[hole - 1] as number;
        poolState[hole] = poolState[hole - 1] as S;
        poolStateKey[hole] = poolStateKey[hole - 1] as string;
        hole -= 1;
      }
      poolNode[hole] = node;
      poolRank[hole] = rank;
      poolState[hole] = state;
      poolStateKey[hole] = stateKey;
    }
  }

  private grow(size: number): void {
    const capacity = Math.max(size, this.node.length * 2);
    const node = new Int32Array(capacity);
    node.set(this.node);
    this.node = node;
    const rank = new Float64Array(capacity);
    rank.set(this.rank);
    this.rank = rank;
  }
}
