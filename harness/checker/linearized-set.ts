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
  private tighten(): void {
    const words = this.words;
    while (this.lowWord < words.length && words[this.lowWord] === 0xffffffff) {
      this.lowWord += 1;
    }
    while (this.highWord >= 0 && words[this.highWord] === 0) {
      this.highWord -= 1;
    }
  }

  /** A compact copy for the memo. */
  snapshot(): CompactSet {
    this.tighten();
    const end = Math.max(this.lowWord, this.highWord + 1);
    return { lowWord: this.lowWord, words: this.words.slice(this.lowWord, end) };
  }

  equals(stored: CompactSet): boolean {
    this.tighten();
    const end = Math.max(this.lowWord, this.highWord + 1);
    if (stored.lowWord !== this.lowWord || stored.words.length !== end - this.lowWord) {
      return false;
    }
    const words = this.words;
    const storedWords = stored.words;
    for (let index = 0; index < storedWords.length; index += 1) {
      if (storedWords[index] !== words[this.lowWord + index]) {
        return false;
      }
    }
    return true;
  }
}

export interface CompactSet {
  lowWord: number;
  words: Uint32Array;
}

interface MemoEntry {
  set: CompactSet;
  stateKey: string;
}

/** Entries stored by every partition's memo; the check gives up (verdict unknown) past a bound. */
export interface MemoUsage {
  entries: number;
}

/** One partition's explored (linearized set, state) pairs, bucketed by a 52-bit hash of both. */
export class ExploredMemo {
  private readonly buckets = new Map<number, MemoEntry | MemoEntry[]>();

  constructor(private readonly usage: MemoUsage) {}

  /** Records the pair and returns true, or returns false when it was already explored. */
  addIfNew(set: LinearizedSet, stateKey: string): boolean {
    const stateHash = hashString(stateKey);
    const low = (set.hashLow ^ stateHash) >>> 0;
    const high = (set.hashHigh ^ Math.imul(stateHash, 0x85ebca6b)) & 0xfffff;
    const key = high * 0x100000000 + low;
    const existing = this.buckets.get(key);
    if (existing === undefined) {
      this.buckets.set(key, { set: set.snapshot(), stateKey });
      this.usage.entries += 1;
      return true;
    }
    if (Array.isArray(existing)) {
      for (const entry of existing) {
        if (entry.stateKey === stateKey && set.equals(entry.set)) {
          return false;
        }
      }
      existing.push({ set: set.snapshot(), stateKey });
    } else {
      if (existing.stateKey === stateKey && set.equals(existing.set)) {
        return false;
      }
      this.buckets.set(key, [existing, { set: set.snapshot(), stateKey }]);
    }
    this.usage.entries += 1;
    return true;
  }
}

/** FNV-1a over UTF-16 code units. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  }
  return hash | 0;
}
