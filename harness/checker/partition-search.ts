// Lowe's just-in-time linearization search over one partition (Wing & Gong's algorithm with
// Lowe's memo, as in Porcupine's checkSingle). At each level the candidates are the calls before
// the first remaining return in the entry list; each is stepped once, and the legal ones are
// tried in an order that finds linearizations fast, with two prunings:
//
// - A legal read-only candidate (it never changes any state) is taken first and never
//   reconsidered: moving it to the front of any linearization of the rest keeps that
//   linearization valid (everything that must precede it is already linearized, and the state
//   sequence is unchanged). So if the search fails after it, this level fails too. (Not so for a
//   write that happens to be a no-op here, like `put 1` on state 1: later it may restore 1.)
// - An `info` operation need never be linearized (it may not have happened), so the search
//   succeeds once every `ok` operation is placed; info candidates are tried last, and one that
//   would not change the state is never tried.
//
// Besides real time, the search honours precedences that the model derived from the history
// (see prepare-history.ts): an operation is a candidate only once its predecessors are placed.
// Both prunings above still hold, since a read-only op moved to the front keeps every pair.
//
// Order within a level: read-only, other state-preserving, then the operation whose return
// blocks the list (it must come before anything called after its return), then the other ok
// operations latest call first, then info operations in call order, stepped only once the others
// are exhausted (a history with 5% info ops keeps dozens of them as candidates at every level).
// Latest-call-first was measured, not derived: on Porcupine's kv c50-ok history it explores 11x
// fewer nodes than call order or return order (139k vs 1.5M), and it is no worse on the etcd set.
//
// Resumable: `advance` runs a bounded number of iterations so the driver can share time fairly
// between partitions and honour a deadline.
import type { Model } from "../../plugins/api.js";
import { EntryList, isCallNode, operationOfNode } from "./entry-list.js";
import { ExploredMemo, LinearizedSet, type MemoUsage } from "./linearized-set.js";
import type { HistoryOperation } from "./operations.js";

export type SearchStatus = "running" | "ok" | "illegal";

/** Which operations never change the state, whatever their outcome. */
export type ReadOnlyPredicate = (input: HistoryOperation["input"]) => boolean;

/** The deepest point the search reached: a linearizable prefix and the op that could not follow. */
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

const rankReadOnly = 0;
const rankPreserving = 1;
const rankInfoFirst = 1.5;
const rankBlocking = 2;
const rankChanging = 3;
const rankInfoLast = 4;

/**
 * Where info candidates go in a level's order. Neither is good everywhere: "info-last" is fast
 * when most info ops never took effect (Porcupine's etcd histories: info cas on a small value
 * set), and exponential when an info write's value is read later (it is tried only after every
 * ok alternative below fails); "info-first" is the reverse. See PortfolioSearch.
 */
export type InfoStrategy = "info-first" | "info-last";

export interface SearchConstraints {
  /** Pairs of positions in the operations: the first must be linearized before the second. */
  precedences?: readonly (readonly [number, number])[];
  /** Order hints by position in the operations: within a rank, lower first, then the others. */
  priorities?: ReadonlyMap<number, number>;
  /**
   * Whether a read-only operation must leave the state key as it is (default true: anything
   * else is a model bug). A model prepared for one history may record more than the model state
   * in its key; the read-only pruning holds as long as its steps are legal.
   */
  readOnlyKeepsKey?: boolean;
}

export class PartitionSearch<S> {
  status: SearchStatus = "running";
  /** Iterations run so far (candidates stepped, tried or abandoned). */
  iterations = 0;
  private readonly list: EntryList;
  private readonly linearized: LinearizedSet;
  private readonly memo: ExploredMemo;
  private readonly isInfo: Uint8Array;
  private readonly isReadOnly: Uint8Array;
  private readonly readOnlyKeepsKey: boolean;
  /** Per local op, its order within a rank, in [0, 0.5): lower is tried first. */
  private readonly orderInRank: Float64Array;
  /** Per local op: predecessors (by precedence) not linearized yet; a candidate only at 0. */
  private readonly predecessorsLeft: Int32Array;
  /** Successors of local op i by precedence: successorList[successorStart[i] .. successorStart[i+1]). */
  private readonly successorStart: Int32Array;
  private readonly successorList: Int32Array;
  /** The partition's operations renumbered: ok operations first, then info ones (local ids). */
  private readonly localOperations: readonly HistoryOperation[];

  // Candidate pool, used as a stack: level d owns [levelStart[d], levelEnd[d]).
  private poolNode = new Int32Array(256);
  private poolRank = new Float64Array(256);
  private readonly poolState: S[] = [];
  private readonly poolStateKey: string[] = [];

  // Per level d (0..depth): its candidates, the next one to try, the op blocking it, and, for
  // d < depth, the candidate taken and the state before it.
  private readonly levelStart: Int32Array;
  private readonly levelEnd: Int32Array;
  private readonly levelNext: Int32Array;
  private readonly levelBlocked: Int32Array;
  /** 1 while the level's info candidates have not been stepped and appended yet. */
  private readonly levelInfoPending: Uint8Array;
  /**
   * Info operations with identical inputs are interchangeable (both may take effect at any time
   * after their calls, which are both past), so a level tries only the first of each group.
   */
  private readonly infoGroup: Int32Array;
  private readonly infoGroupStamp: Int32Array;
  private infoGroupStampNow = 0;
  private readonly levelTaken: Int32Array;
  private readonly levelForced: Uint8Array;
  private readonly levelState: S[] = [];
  private readonly levelStateKey: string[] = [];
  private depth = 0;
  private state: S;
  private stateKey: string;
  /** ok operations not linearized yet; the search succeeds at 0. */
  private okRemaining: number;
  private longest: LongestAttempt;
  /** ok operations in `longest`: attempts are compared by it, since info ops prove nothing. */
  private longestOkCount = -1;
  private readonly okCount: number;

  constructor(
    private readonly model: Model<S>,
    readonly operations: readonly HistoryOperation[],
    memoUsage: MemoUsage,
    readOnly: ReadOnlyPredicate = () => false,
    private readonly strategy: InfoStrategy = "info-last",
    constraints: SearchConstraints = {},
  ) {
    const precedences = constraints.precedences ?? [];
    this.readOnlyKeepsKey = constraints.readOnlyKeepsKey ?? true;
    const count = operations.length;
    const okOperations = operations.filter((operation) => operation.type === "ok");
    const localOperations = [...okOperations, ...operations.filter((operation) => operation.type !== "ok")];
    this.localOperations = localOperations;
    const localOf = new Map(localOperations.map((operation, local) => [operation, local]));
    const localPairs = precedences.map(([before, after]) => [
      localOf.get(operations[before] as HistoryOperation) as number,
      localOf.get(operations[after] as HistoryOperation) as number,
    ]);
    this.predecessorsLeft = new Int32Array(count);
    this.successorStart = new Int32Array(count + 1);
    for (const [before, after] of localPairs) {
      assert(before !== undefined && after !== undefined, "invariant: a precedence names two operations of the partition");
      this.predecessorsLeft[after] = (this.predecessorsLeft[after] as number) + 1;
      this.successorStart[before + 1] = (this.successorStart[before + 1] as number) + 1;
    }
    for (let local = 0; local < count; local += 1) {
      this.successorStart[local + 1] = (this.successorStart[local + 1] as number) + (this.successorStart[local] as number);
    }
    this.successorList = new Int32Array(localPairs.length);
    const filled = this.successorStart.slice(0, count);
    for (const [before, after] of localPairs) {
      const slot = filled[before as number] as number;
      this.successorList[slot] = after as number;
      filled[before as number] = slot + 1;
    }
    this.list = new EntryList(localOperations);
    this.linearized = new LinearizedSet(okOperations.length, count - okOperations.length);
    this.memo = new ExploredMemo(memoUsage);
    this.isInfo = Uint8Array.from(localOperations, (operation) => (operation.type === "info" ? 1 : 0));
    this.isReadOnly = Uint8Array.from(localOperations, (operation) => (readOnly(operation.input) ? 1 : 0));
    this.okRemaining = okOperations.length;
    this.okCount = okOperations.length;
    const groups = new Map<string, number>();
    this.infoGroup = Int32Array.from(localOperations, (operation) => {
      if (operation.type !== "info") {
        return -1;
      }
      // An info op with precedences is not interchangeable with one that has other precedences.
      const local = localOf.get(operation) as number;
      const constrained = this.predecessorsLeft[local] !== 0 || this.successorStart[local] !== this.successorStart[local + 1];
      const signature = constrained
        ? `#${local}`
        : JSON.stringify([operation.input.f, operation.input.key ?? null, operation.input.value]);
      let group = groups.get(signature);
      if (group === undefined) {
        group = groups.size;
        groups.set(signature, group);
      }
      return group;
    });
    this.infoGroupStamp = new Int32Array(groups.size);
    this.orderInRank = orderWithinRank(operations, localOf, constraints.priorities);
    this.levelStart = new Int32Array(count + 1);
    this.levelEnd = new Int32Array(count + 1);
    this.levelNext = new Int32Array(count + 1);
    this.levelBlocked = new Int32Array(count + 1);
    this.levelInfoPending = new Uint8Array(count + 1);
    this.levelTaken = new Int32Array(count + 1);
    this.levelForced = new Uint8Array(count + 1);
    this.state = model.init();
    this.stateKey = model.stateKey(this.state);
    this.longest = { order: [], statesAfter: [], blockedOperation: null, stateBefore: this.state };
    if (this.okRemaining > 0) {
      this.enterLevel(0);
    }
  }

  /**
   * Runs about `iterationsMax` iterations at most, or until the memos hold `memoEntriesMax`
   * entries. Returns the status; "running" means call again.
   */
  advance(iterationsMax: number, memoEntriesMax: number): SearchStatus {
    if (this.status !== "running") {
      return this.status;
    }
    const { list, linearized, memo } = this;
    const budgetEnd = this.iterations + iterationsMax;
    while (this.okRemaining > 0) {
      if (this.iterations >= budgetEnd || memo.usage.entries >= memoEntriesMax || memo.usage.bytes >= memo.usage.bytesMax) {
        return this.status;
      }
      this.iterations += 1;
      const depth = this.depth;
      const candidate = this.levelNext[depth] as number;
      if (candidate === this.levelEnd[depth]) {
        if (this.levelInfoPending[depth] === 1) {
          this.appendInfoCandidates();
          continue;
        }
        this.maybeRecordLongest(this.levelBlocked[depth] as number);
        if (!this.backtrack()) {
          this.status = "illegal";
          return this.status;
        }
        continue;
      }
      this.levelNext[depth] = candidate + 1;
      const callNode = this.poolNode[candidate] as number;
      const local = operationOfNode(callNode);
      const forced = (this.poolRank[candidate] as number) < rankPreserving;
      const nextStateKey = this.poolStateKey[candidate] as string;
      linearized.add(local);
      if (!memo.addIfNew(linearized, nextStateKey)) {
        linearized.remove(local);
        if (forced) {
          // An explored read-only step means this level was explored too (see above).
          this.levelNext[depth] = this.levelEnd[depth] as number;
        }
        continue;
      }
      this.levelTaken[depth] = callNode;
      this.levelForced[depth] = forced ? 1 : 0;
      this.levelState[depth] = this.state;
      this.levelStateKey[depth] = this.stateKey;
      this.state = this.poolState[candidate] as S;
      this.stateKey = nextStateKey;
      if (this.isInfo[local] === 0) {
        this.okRemaining -= 1;
      }
      list.lift(callNode);
      this.adjustSuccessors(local, -1);
      this.depth = depth + 1;
      if (this.okRemaining > 0) {
        this.enterLevel(this.levelEnd[depth] as number);
      }
    }
    this.status = "ok";
    this.recordLongest(null);
    return this.status;
  }

  /** Steps every candidate of the new level once and orders the legal ones into the pool. */
  private enterLevel(poolStart: number): void {
    const { list, model, localOperations, isInfo, isReadOnly } = this;
    const next = list.next;
    const depth = this.depth;
    let cursor = next[0] as number;
    // The first return ends the candidates; its operation is the one blocking this level.
    let blockingNode = cursor;
    while (blockingNode !== -1 && isCallNode(blockingNode)) {
      blockingNode = next[blockingNode] as number;
    }
    assert(blockingNode !== -1, "invariant: the list ends with a return while ok operations remain");
    const blockingCall = blockingNode - 1;
    let poolEnd = poolStart;
    let infoPending = 0;
    const infoFirst = this.strategy === "info-first";
    this.infoGroupStampNow += 1;
    for (; cursor !== blockingNode; cursor = next[cursor] as number) {
      this.iterations += 1;
      const local = operationOfNode(cursor);
      if (this.predecessorsLeft[local] !== 0) {
        continue;
      }
      if (isInfo[local] === 1 && (!infoFirst || this.isDuplicateInfo(local))) {
        infoPending = infoFirst ? infoPending : 1;
        continue;
      }
      const operation = localOperations[local] as HistoryOperation;
      const nextState = model.step(this.state, operation.input, operation.outcome);
      if (nextState === undefined) {
        continue;
      }
      const nextStateKey = model.stateKey(nextState);
      const preserving = nextStateKey === this.stateKey;
      let rank: number;
      if (isInfo[local] === 1) {
        if (preserving) {
          continue;
        }
        rank = rankInfoFirst;
      } else if (isReadOnly[local] === 1) {
        if (!preserving && this.readOnlyKeepsKey) {
          throw new Error(
            `model bug: read-only operation ${model.describeOperation(operation.input, operation.outcome)} changed the state from ${model.describeState(this.state)} to ${model.describeState(nextState)}`,
          );
        }
        rank = rankReadOnly;
      } else if (preserving) {
        rank = rankPreserving;
      } else {
        rank = cursor === blockingCall ? rankBlocking : rankChanging;
      }
      this.ensurePoolCapacity(poolEnd + 1);
      this.poolNode[poolEnd] = cursor;
      // Rank first, then latest call first; both fit exactly in a double.
      this.poolRank[poolEnd] = rank + (this.orderInRank[local] as number);
      // A preserving step keeps the current state and key objects: the key's hash is cached on
      // the string by the memo's Map, and equal keys then compare by identity.
      this.poolState[poolEnd] = preserving ? this.state : nextState;
      this.poolStateKey[poolEnd] = preserving ? this.stateKey : nextStateKey;
      poolEnd += 1;
    }
    this.sortPool(poolStart, poolEnd);
    this.levelStart[depth] = poolStart;
    this.levelEnd[depth] = poolEnd;
    this.levelNext[depth] = poolStart;
    this.levelBlocked[depth] = operationOfNode(blockingCall);
    this.levelInfoPending[depth] = infoPending;
  }

  /**
   * Steps the current level's info candidates and appends the state-changing ones, in call order,
   * after its exhausted ok candidates (the pool above them is free: deeper levels are popped).
   */
  private appendInfoCandidates(): void {
    const { list, model, localOperations, isInfo } = this;
    const next = list.next;
    const depth = this.depth;
    let poolEnd = this.levelEnd[depth] as number;
    this.infoGroupStampNow += 1;
    for (let cursor = next[0] as number; isCallNode(cursor); cursor = next[cursor] as number) {
      const local = operationOfNode(cursor);
      if (isInfo[local] === 0 || this.predecessorsLeft[local] !== 0 || this.isDuplicateInfo(local)) {
        continue;
      }
      this.iterations += 1;
      const operation = localOperations[local] as HistoryOperation;
      const nextState = model.step(this.state, operation.input, operation.outcome);
      // A model prepared for this history may reject an unknown outcome that leads nowhere.
      if (nextState === undefined) {
        continue;
      }
      const nextStateKey = model.stateKey(nextState);
      if (nextStateKey === this.stateKey) {
        continue;
      }
      this.ensurePoolCapacity(poolEnd + 1);
      this.poolNode[poolEnd] = cursor;
      this.poolRank[poolEnd] = rankInfoLast;
      this.poolState[poolEnd] = nextState;
      this.poolStateKey[poolEnd] = nextStateKey;
      poolEnd += 1;
    }
    this.levelEnd[depth] = poolEnd;
    this.levelInfoPending[depth] = 0;
  }

  /** Counts `local`'s linearization (delta -1) or its undoing (+1) for its successors. */
  private adjustSuccessors(local: number, delta: number): void {
    const { predecessorsLeft, successorList } = this;
    const end = this.successorStart[local + 1] as number;
    for (let slot = this.successorStart[local] as number; slot < end; slot += 1) {
      const successor = successorList[slot] as number;
      predecessorsLeft[successor] = (predecessorsLeft[successor] as number) + delta;
    }
  }

  /** True when an info op with the same input was already a candidate of the level being built. */
  private isDuplicateInfo(local: number): boolean {
    const group = this.infoGroup[local] as number;
    if (this.infoGroupStamp[group] === this.infoGroupStampNow) {
      return true;
    }
    this.infoGroupStamp[group] = this.infoGroupStampNow;
    return false;
  }

  /** The operation with local id `local` (ok operations first, then info ones). */
  operationAt(local: number): HistoryOperation {
    return this.localOperations[local] as HistoryOperation;
  }

  /** Insertion sort of the level's candidates by rank: levels hold a few dozen at most. */
  private sortPool(start: number, end: number): void {
    const { poolNode, poolRank, poolState, poolStateKey } = this;
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

  private ensurePoolCapacity(size: number): void {
    if (size <= this.poolNode.length) {
      return;
    }
    const capacity = Math.max(size, this.poolNode.length * 2);
    const node = new Int32Array(capacity);
    node.set(this.poolNode);
    this.poolNode = node;
    const rank = new Float64Array(capacity);
    rank.set(this.poolRank);
    this.poolRank = rank;
  }

  /**
   * Undoes the step taken at the level below and resumes there with its next candidate; a
   * read-only step exhausts its level, so backtracking continues below it. Returns false when
   * nothing is left to undo.
   */
  private backtrack(): boolean {
    if (this.depth === 0) {
      return false;
    }
    this.depth -= 1;
    const depth = this.depth;
    const callNode = this.levelTaken[depth] as number;
    const local = operationOfNode(callNode);
    this.state = this.levelState[depth] as S;
    this.stateKey = this.levelStateKey[depth] as string;
    this.linearized.remove(local);
    if (this.isInfo[local] === 0) {
      this.okRemaining += 1;
    }
    this.list.unlift(callNode);
    this.adjustSuccessors(local, 1);
    if (this.levelForced[depth] === 1) {
      this.levelNext[depth] = this.levelEnd[depth] as number;
    }
    return true;
  }

  /**
   * The deepest attempt so far: the full linearization once the status is "ok". While still
   * running, the current prefix counts too when it is deeper than any dead end met so far.
   */
  longestAttempt(): LongestAttempt {
    if (this.status === "running" && this.okCount - this.okRemaining > this.longestOkCount) {
      this.recordLongest(null);
    }
    return this.longest;
  }

  /** Keeps the dead end with the most ok operations placed (then the fewest info ones). */
  private maybeRecordLongest(blockedOperation: number): void {
    const okPlaced = this.okCount - this.okRemaining;
    if (
      okPlaced > this.longestOkCount ||
      (okPlaced === this.longestOkCount &&
        (this.longest.blockedOperation === null || this.depth < this.longest.order.length))
    ) {
      this.recordLongest(blockedOperation);
    }
  }

  private recordLongest(blockedOperation: number | null): void {
    const depth = this.depth;
    const order: number[] = new Array<number>(depth);
    const statesAfter: unknown[] = new Array<unknown>(depth);
    for (let index = 0; index < depth; index += 1) {
      order[index] = operationOfNode(this.levelTaken[index] as number);
      statesAfter[index] = index + 1 < depth ? this.levelState[index + 1] : this.state;
    }
    this.longest = { order, statesAfter, blockedOperation, stateBefore: this.state };
    this.longestOkCount = this.okCount - this.okRemaining;
  }
}

/**
 * Hinted operations first, by priority, in [0, 0.25); then the others latest call first, in
 * [0.25, 0.5). Both fit exactly in a double added to a small integer rank.
 */
function orderWithinRank(
  operations: readonly HistoryOperation[],
  localOf: ReadonlyMap<HistoryOperation, number>,
  priorities: ReadonlyMap<number, number> = new Map(),
): Float64Array {
  const order = new Float64Array(operations.length);
  const hinted = [...priorities].sort((a, b) => a[1] - b[1]);
  hinted.forEach(([position], rankIndex) => {
    order[localOf.get(operations[position] as HistoryOperation) as number] = (rankIndex / (hinted.length + 1)) * 0.25;
  });
  operations.forEach((operation, position) => {
    if (!priorities.has(position)) {
      order[localOf.get(operation) as number] = 0.25 + (2 ** 40 - operation.invokeIndex) / 2 ** 43;
    }
  });
  return order;
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) {
    throw new Error(`assertion failed: ${message}`);
  }
}
