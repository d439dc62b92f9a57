// The set of operations linearized so far, and the memo of (set, model state) pairs already
// explored. Two searches that reach the same set with the same state have the same future, so the
// second is pruned (Lowe; Porcupine's cache).
//
// The set is a bitset with an incremental Zobrist hash, in two regions: ok operations, then info
// operations (the search numbers them so). A stored copy keeps, per region, only the words between
// the first word that is not all ones and the last non-zero word. The search linearizes ok
// operations roughly in call order and info operations rarely, so a set is a run of ones, a short
// ragged frontier and a few info bits: a stored copy stays small even for 100k operations.
import { SeededRng } from "../lib/rng.js";

/** One region of the bitset, with bounds that make its compact form cheap to find. */
class BitRegion {
  readonly words: Uint32Array;
  /** Invariant: every word below lowWord is all ones. */
  private lowWord = 0;
  /** Invariant: every word above highWord is zero. */
  private highWord = -1;

  constructor(size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32));
  }

  add(member: number): void {
    const word = member >>> 5;
    this.words[word] = (this.words[word] as number) | (1 << (member & 31));
    if (word > this.highWord) {
      this.highWord = word;
    }
  }

  remove(member: number): void {
    const word = member >>> 5;
    this.words[word] = (this.words[word] as number) & ~(1 << (member & 31));
    if (word < this.lowWord) {
      this.lowWord = word;
    }
  }

  /** Moves the bounds to their tightest values (amortised cheap) and returns compactStart. */
  tighten(): number {
    const words = this.words;
    while (this.lowWord < words.length && words[this.lowWord] === 0xffffffff) {
      this.lowWord += 1;
    }
    while (this.highWord >= 0 && words[this.highWord] === 0) {
      this.highWord -= 1;
    }
    return this.lowWord;
  }

  /** One past the last non-zero word (at least the start); valid after tighten(). */
  compactEnd(): number {
    return Math.max(this.lowWord, this.highWord + 1);
  }
}

export class LinearizedSet {
  readonly ok: BitRegion;
  readonly info: BitRegion;
  /** Zobrist hash halves: XOR of a random value per member. */
  hashLow = 0;
  hashHigh = 0;
  private readonly randomLow: Int32Array;
  private readonly randomHigh: Int32Array;

  /** Members 0..okCount-1 are ok operations, okCount..okCount+infoCount-1 info operations. */
  constructor(
    private readonly okCount: number,
    infoCount: number,
  ) {
    const size = okCount + infoCount;
    this.ok = new BitRegion(okCount);
    this.info = new BitRegion(infoCount);
    this.randomLow = new Int32Array(size);
    this.randomHigh = new Int32Array(size);
    // A fixed-seed generator: hashes only need to be well spread, and runs stay reproducible.
    const random = new SeededRng((0x9e3779b9 ^ size) >>> 0);
    for (let member = 0; member < size; member += 1) {
      this.randomLow[member] = random.nextUint32();
      this.randomHigh[member] = random.nextUint32();
    }
  }

  add(member: number): void {
    if (member < this.okCount) {
      this.ok.add(member);
    } else {
      this.info.add(member - this.okCount);
    }
    this.hashLow ^= this.randomLow[member] as number;
    this.hashHigh ^= this.randomHigh[member] as number;
  }

  remove(member: number): void {
    if (member < this.okCount) {
      this.ok.remove(member);
    } else {
      this.info.remove(member - this.okCount);
    }
    this.hashLow ^= this.randomLow[member] as number;
    this.hashHigh ^= this.randomHigh[member] as number;
  }
}

/** Int32 fields per memo entry (see ExploredMemo.entryFields). */
const entryFieldCount = 7;

/** Entries stored by every partition's memo; the check gives up (verdict unknown) past a bound. */
export interface MemoUsage {
  entries: number;
  /**
   * Estimated bytes held by the memos: entry records, stored set words and distinct state keys
   * (queue or append-built states can be long strings, so counting entries alone does not bound
   * memory). An estimate, not a measurement, so that the bound is deterministic.
   */
  bytes: number;
  /** The bound on `bytes`; the search stops when it is reached. */
  bytesMax: number;
  /**
   * Bytes the memos may still allocate to grow (the checker sets it to the room left under the
   * process's memory bound before each slice of the search). A memo's arrays grow by doubling, so
   * one growth of a large memo could otherwise overshoot the bound by the size of the new array.
   */
  growthBytesMax: number;
  /** Set when a memo did not grow because the growth would pass `growthBytesMax`: the search stops. */
  growthRefused: boolean;
}

/** Per memo entry: its Int32 fields, its pool start (Float64) and about two hash slots (Int32). */
const entryBytes = entryFieldCount * 4 + 8 + 2 * 4;
/** Per distinct state key: the Map entry and the string header (the characters are added). */
const stateKeyOverheadBytes = 64;

/**
 * One partition's explored (linearized set, state) pairs: an open-addressing hash table whose
 * entries live in typed arrays, with the compact sets packed into one word pool, so that storing
 * millions of entries allocates almost nothing per entry (allocation and GC dominated otherwise).
 */
export class ExploredMemo {
  /** Entry number + 1 per slot, 0 when free; the capacity is a power of two. */
  private slots = new Int32Array(1024);
  private count = 0;
  /** Per entry: hash halves, state id, then per region the start word and the word count. */
  private entryFields = new Int32Array(512 * entryFieldCount);
  private entryPoolStart = new Float64Array(512);
  /**
   * State keys to small integers. A Map hashes a string once (V8 caches the hash on the string),
   * while hashing long keys (a kv value built by appends) in JavaScript cost more than the search.
   */
  private readonly stateIds = new Map<string, number>();
  private pool = new Uint32Array(4096);
  private poolUsed = 0;

  constructor(readonly usage: MemoUsage) {}

  /** Records the pair and returns true, or returns false when it was already explored. */
  addIfNew(set: LinearizedSet, stateKey: string): boolean {
    let stateId = this.stateIds.get(stateKey);
    if (stateId === undefined) {
      stateId = this.stateIds.size;
      this.stateIds.set(stateKey, stateId);
      this.usage.bytes += stateKeyOverheadBytes + 2 * stateKey.length;
    }
    const stateHash = Math.imul(stateId + 1, 0x9e3779b1);
    const hashLow = set.hashLow ^ stateHash;
    const hashHigh = set.hashHigh ^ Math.imul(stateHash, 0x85ebca6b);
    const okStart = set.ok.tighten();
    const okLength = set.ok.compactEnd() - okStart;
    const infoStart = set.info.tighten();
    const infoLength = set.info.compactEnd() - infoStart;
    const fields = this.entryFields;
    const mask = this.slots.length - 1;
    let slot = hashLow & mask;
    for (;;) {
      const stored = this.slots[slot] as number;
      if (stored === 0) {
        break;
      }
      const base = (stored - 1) * entryFieldCount;
      if (
        fields[base] === hashLow &&
        fields[base + 1] === hashHigh &&
        fields[base + 2] === stateId &&
        fields[base + 3] === okStart &&
        fields[base + 4] === okLength &&
        fields[base + 5] === infoStart &&
        fields[base + 6] === infoLength &&
        this.sameWords(stored - 1, set, okStart, okLength, infoStart, infoLength)
      ) {
        return false;
      }
      slot = (slot + 1) & mask;
    }
    const entry = this.count;
    if (!this.ensureCapacity(entry + 1, okLength + infoLength)) {
      // Not stored: exploring the pair again is merely redundant, and the search stops at once.
      return true;
    }
    const base = entry * entryFieldCount;
    this.entryFields[base] = hashLow;
    this.entryFields[base + 1] = hashHigh;
    this.entryFields[base + 2] = stateId;
    this.entryFields[base + 3] = okStart;
    this.entryFields[base + 4] = okLength;
    this.entryFields[base + 5] = infoStart;
    this.entryFields[base + 6] = infoLength;
    this.entryPoolStart[entry] = this.poolUsed;
    this.pool.set(set.ok.words.subarray(okStart, okStart + okLength), this.poolUsed);
    this.pool.set(set.info.words.subarray(infoStart, infoStart + infoLength), this.poolUsed + okLength);
    this.poolUsed += okLength + infoLength;
    this.count += 1;
    this.slots[slot] = this.count;
    this.usage.entries += 1;
    this.usage.bytes += entryBytes + 4 * (okLength + infoLength);
    if (this.count * 2 > this.slots.length) {
      this.rehash();
    }
    return true;
  }

  private sameWords(entry: number, set: LinearizedSet, okStart: number, okLength: number, infoStart: number, infoLength: number): boolean {
    const start = this.entryPoolStart[entry] as number;
    const pool = this.pool;
    const okWords = set.ok.words;
    for (let index = 0; index < okLength; index += 1) {
      if (pool[start + index] !== okWords[okStart + index]) {
        return false;
      }
    }
    const infoWords = set.info.words;
    for (let index = 0; index < infoLength; index += 1) {
      if (pool[start + okLength + index] !== infoWords[infoStart + index]) {
        return false;
      }
    }
    return true;
  }

  /** Grows the entry arrays and pool as needed; false (nothing grown) when that would pass the growth bound. */
  private ensureCapacity(entries: number, extraWords: number): boolean {
    const growEntries = entries > this.entryPoolStart.length;
    const growPool = this.poolUsed + extraWords > this.pool.length;
    const poolCapacity = Math.max(this.pool.length * 2, this.poolUsed + extraWords);
    // Entries double (fields and starts), and the slots double with them when the table rehashes.
    const growthBytes =
      (growEntries ? 2 * this.entryPoolStart.length * (entryFieldCount * 4 + 8) + 2 * this.slots.byteLength : 0) + (growPool ? poolCapacity * 4 : 0);
    if (growthBytes > this.usage.growthBytesMax) {
      this.usage.growthRefused = true;
      return false;
    }
    this.usage.growthBytesMax -= growthBytes;
    if (growEntries) {
      const capacity = this.entryPoolStart.length * 2;
      const fields = new Int32Array(capacity * entryFieldCount);
      fields.set(this.entryFields);
      this.entryFields = fields;
      const starts = new Float64Array(capacity);
      starts.set(this.entryPoolStart);
      this.entryPoolStart = starts;
    }
    if (growPool) {
      const bigger = new Uint32Array(poolCapacity);
      bigger.set(this.pool.subarray(0, this.poolUsed));
      this.pool = bigger;
    }
    return true;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let entry = 0; entry < this.count; entry += 1) {
      let slot = (this.entryFields[entry * entryFieldCount] as number) & mask;
      while (slots[slot] !== 0) {
        slot = (slot + 1) & mask;
      }
      slots[slot] = entry + 1;
    }
    this.slots = slots;
  }
}
