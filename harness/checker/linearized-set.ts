// The set of operations linearized so far, and the memo of (set, model state) pairs already
// explored. Two searches that reach the same set with the same state have the same future, so the
// second is pruned (Lowe; Porcupine's cache).
//
// The set is a bitset with an incremental Zobrist hash. Stored copies keep only the words between
// the first word that is not all ones and the last non-zero word: the search linearizes operations
// roughly in call order, so a set is a run of ones plus a short ragged frontier, and a stored copy
// stays small even for a partition of 100k operations.

export class LinearizedSet {
  readonly words: Uint32Array;
  /** Zobrist hash halves: XOR of a random value per member. */
  hashLow = 0;
  hashHigh = 0;
  /** Invariant: every word below lowWord is all ones. */
  private lowWord = 0;
  /** Invariant: every word above highWord is zero. */
  private highWord = -1;
  private readonly randomLow: Int32Array;
  private readonly randomHigh: Int32Array;

  constructor(size: number) {
    this.words = new Uint32Array(Math.max(1, Math.ceil(size / 32)));
    this.randomLow = new Int32Array(size);
    this.randomHigh = new Int32Array(size);
    // A fixed-seed generator: hashes only need to be well spread, and runs stay reproducible.
    let seed = 0x9e3779b9 ^ size;
    const nextRandom = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let mixed = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
      return mixed ^ (mixed >>> 14);
    };
    for (let member = 0; member < size; member += 1) {
      this.randomLow[member] = nextRandom();
      this.randomHigh[member] = nextRandom();
    }
  }

  add(member: number): void {
    const word = member >>> 5;
    this.words[word] = (this.words[word] as number) | (1 << (member & 31));
    this.hashLow ^= this.randomLow[member] as number;
    this.hashHigh ^= this.randomHigh[member] as number;
    if (word > this.highWord) {
      this.highWord = word;
    }
  }

  remove(member: number): void {
    const word = member >>> 5;
    this.words[word] = (this.words[word] as number) & ~(1 << (member & 31));
    this.hashLow ^= this.randomLow[member] as number;
    this.hashHigh ^= this.randomHigh[member] as number;
    if (word < this.lowWord) {
      this.lowWord = word;
    }
  }

  /** Moves lowWord/highWord to their tightest values; amortised cheap. */
  tighten(): void {
    const words = this.words;
    while (this.lowWord < words.length && words[this.lowWord] === 0xffffffff) {
      this.lowWord += 1;
    }
    while (this.highWord >= 0 && words[this.highWord] === 0) {
      this.highWord -= 1;
    }
  }

  /** First word not all ones; valid after tighten(). */
  get compactStart(): number {
    return this.lowWord;
  }

  /** One past the last non-zero word (at least compactStart); valid after tighten(). */
  get compactEnd(): number {
    return Math.max(this.lowWord, this.highWord + 1);
  }
}

/** Entries stored by every partition's memo; the check gives up (verdict unknown) past a bound. */
export interface MemoUsage {
  entries: number;
}

/**
 * One partition's explored (linearized set, state) pairs: an open-addressing hash table whose
 * entries live in typed arrays, with the compact sets packed into one word pool, so that storing
 * millions of entries allocates almost nothing per entry (allocation and GC dominated otherwise).
 */
export class ExploredMemo {
  /** Entry number + 1 per slot, 0 when free; the capacity is a power of two. */
  private slots = new Int32Array(1024);
  private count = 0;
  private entryHashLow = new Int32Array(512);
  private entryHashHigh = new Int32Array(512);
  private entryLowWord = new Int32Array(512);
  private entryPoolStart = new Int32Array(512);
  private entryPoolLength = new Int32Array(512);
  private readonly entryStateKey: string[] = [];
  private pool = new Uint32Array(4096);
  private poolUsed = 0;

  constructor(private readonly usage: MemoUsage) {}

  /** Records the pair and returns true, or returns false when it was already explored. */
  addIfNew(set: LinearizedSet, stateKey: string): boolean {
    const stateHash = hashString(stateKey);
    const hashLow = set.hashLow ^ stateHash;
    const hashHigh = set.hashHigh ^ Math.imul(stateHash, 0x85ebca6b);
    set.tighten();
    const lowWord = set.compactStart;
    const length = set.compactEnd - lowWord;
    const mask = this.slots.length - 1;
    let slot = hashLow & mask;
    for (;;) {
      const stored = this.slots[slot] as number;
      if (stored === 0) {
        break;
      }
      const entry = stored - 1;
      if (
        this.entryHashLow[entry] === hashLow &&
        this.entryHashHigh[entry] === hashHigh &&
        this.entryLowWord[entry] === lowWord &&
        this.entryPoolLength[entry] === length &&
        this.entryStateKey[entry] === stateKey &&
        this.sameWords(entry, set.words, lowWord, length)
      ) {
        return false;
      }
      slot = (slot + 1) & mask;
    }
    this.append(hashLow, hashHigh, set.words, lowWord, length, stateKey);
    this.slots[slot] = this.count;
    this.usage.entries += 1;
    if (this.count * 2 > this.slots.length) {
      this.rehash();
    }
    return true;
  }

  private sameWords(entry: number, words: Uint32Array, lowWord: number, length: number): boolean {
    const start = this.entryPoolStart[entry] as number;
    const pool = this.pool;
    for (let index = 0; index < length; index += 1) {
      if (pool[start + index] !== words[lowWord + index]) {
        return false;
      }
    }
    return true;
  }

  private append(
    hashLow: number,
    hashHigh: number,
    words: Uint32Array,
    lowWord: number,
    length: number,
    stateKey: string,
  ): void {
    const entry = this.count;
    if (entry === this.entryHashLow.length) {
      const capacity = entry * 2;
      this.entryHashLow = grow(this.entryHashLow, capacity);
      this.entryHashHigh = grow(this.entryHashHigh, capacity);
      this.entryLowWord = grow(this.entryLowWord, capacity);
      this.entryPoolStart = grow(this.entryPoolStart, capacity);
      this.entryPoolLength = grow(this.entryPoolLength, capacity);
    }
    if (this.poolUsed + length > this.pool.length) {
      const bigger = new Uint32Array(Math.max(this.pool.length * 2, this.poolUsed + length));
      bigger.set(this.pool.subarray(0, this.poolUsed));
      this.pool = bigger;
    }
    for (let index = 0; index < length; index += 1) {
      this.pool[this.poolUsed + index] = words[lowWord + index] as number;
    }
    this.entryHashLow[entry] = hashLow;
    this.entryHashHigh[entry] = hashHigh;
    this.entryLowWord[entry] = lowWord;
    this.entryPoolStart[entry] = this.poolUsed;
    this.entryPoolLength[entry] = length;
    this.entryStateKey.push(stateKey);
    this.poolUsed += length;
    this.count += 1;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let entry = 0; entry < this.count; entry += 1) {
      let slot = (this.entryHashLow[entry] as number) & mask;
      while (slots[slot] !== 0) {
        slot = (slot + 1) & mask;
      }
      slots[slot] = entry + 1;
    }
    this.slots = slots;
  }
}

function grow(array: Int32Array<ArrayBuffer>, capacity: number): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(capacity);
  bigger.set(array);
  return bigger;
}

/** FNV-1a over UTF-16 code units. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  }
  return hash | 0;
}
