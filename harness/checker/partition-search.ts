// Lowe's just-in-time linearization search over one partition (Wing & Gong's algorithm with
// Lowe's memo, as in Porcupine's checkSingle), with two prunings that keep histories with many
// reads and many `info` operations fast:
//
// - A legal candidate that leaves the state unchanged is tried first. When it is a read-only
//   operation (it never changes any state), it is also never reconsidered: moving it to the front
//   of any linearization of the rest keeps that linearization valid (everything that must precede
//   it is already linearized, and the state sequence is unchanged). So if the search fails after
//   it, this level fails too. (Not so for a write that happens to be a no-op here, like `put 1`
//   on state 1: later it may be needed to restore 1.)
// - An `info` operation need never be linearized (it may not have happened), so the search
//   succeeds once every `ok` operation is placed; info candidates are tried last, and an info
//   candidate that would not change the state is never tried.
//
// Candidates are scanned in three passes per level: state-preserving ok ops, state-changing ok
// ops, state-changing info ops. Resumable: `advance` runs a bounded number of iterations so the
// driver can share time fairly between partitions and honour a deadline.
import type { Model } from "../../plugins/api.js";
import { EntryList, isCallNode, operationOfNode } from "./entry-list.js";
import { ExploredMemo, LinearizedSet, type MemoUsage } from "./linearized-set.js";
import type { HistoryOperation } from "./operations.js";

export type SearchStatus = "running" | "ok" | "illegal";

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

const passPreserving = 0;
const passInfo = 2;
/** Marks a stack level taken by a read-only step, which backtracking undoes with its parent. */
const forcedStep = 3;

/** Which operations never change the state, whatever their outcome. */
export type ReadOnlyPredicate = (input: HistoryOperation["input"]) => boolean;

export class PartitionSearch<S> {
  status: SearchStatus = "running";
  /** Iterations run so far (one candidate tried or one backtrack each). */
  iterations = 0;
  private readonly list: EntryList;
  private readonly linearized: LinearizedSet;
  private readonly memo: ExploredMemo;
  private readonly isInfo: Uint8Array;
  private readonly isReadOnly: Uint8Array;
  /** Per level: the call node taken, the pass it was taken in, and the state before it. */
  private readonly stackNode: Int32Array;
  private readonly stackPass: Uint8Array;
  private readonly stackState: S[] = [];
  private readonly stackStateKey: string[] = [];
  private depth = 0;
  private state: S;
  private stateKey: string;
  private cursor: number;
  private pass = passPreserving;
  /** ok operations not linearized yet; the search succeeds at 0. */
  private okRemaining: number;
  private longest: LongestAttempt;

  constructor(
    private readonly model: Model<S>,
    readonly operations: readonly HistoryOperation[],
    private readonly memoUsage: MemoUsage,
    readOnly: ReadOnlyPredicate = () => false,
  ) {
    this.isReadOnly = Uint8Array.from(operations, (operation) => (readOnly(operation.input) ? 1 : 0));
    this.list = new EntryList(operations);
    this.linearized = new LinearizedSet(operations.length);
    this.memo = new ExploredMemo(memoUsage);
    this.isInfo = Uint8Array.from(operations, (operation) => (operation.type === "info" ? 1 : 0));
    this.okRemaining = operations.length - this.isInfo.reduce((sum, info) => sum + info, 0);
    this.stackNode = new Int32Array(operations.length);
    this.stackPass = new Uint8Array(operations.length);
    this.state = model.init();
    this.stateKey = model.stateKey(this.state);
    this.cursor = this.list.next[0] as number;
    this.longest = { order: [], statesAfter: [], blockedOperation: null, stateBefore: this.state };
  }

  /**
   * Runs at most `iterationsMax` iterations, or until the memos hold `memoEntriesMax` entries.
   * Returns the status; "running" means call again.
   */
  advance(iterationsMax: number, memoEntriesMax: number): SearchStatus {
    if (this.status !== "running") {
      return this.status;
    }
    const { list, model, linearized, memo, memoUsage, operations, isInfo } = this;
    const next = list.next;
    let iterations = 0;
    while (this.okRemaining > 0) {
      if (iterations >= iterationsMax || memoUsage.entries >= memoEntriesMax) {
        this.iterations += iterations;
        return this.status;
      }
      iterations += 1;
      const cursor = this.cursor;
      assert(cursor !== -1, "invariant: the list ends with a return while ok operations remain");
      if (!isCallNode(cursor)) {
        if (this.pass !== passInfo) {
          this.pass += 1;
          this.cursor = next[0] as number;
          continue;
        }
        // No candidate before this return can be linearized: a dead end.
        this.maybeRecordLongest(operationOfNode(cursor));
        if (!this.backtrack()) {
          this.status = "illegal";
          break;
        }
        continue;
      }
      this.cursor = next[cursor] as number;
      const local = operationOfNode(cursor);
      const info = isInfo[local] === 1;
      if (info !== (this.pass === passInfo)) {
        continue;
      }
      const operation = operations[local] as HistoryOperation;
      const nextState = model.step(this.state, operation.input, operation.outcome);
      if (nextState === undefined) {
        continue;
      }
      const nextStateKey = model.stateKey(nextState);
      const preserving = nextStateKey === this.stateKey;
      if (preserving !== (this.pass === passPreserving)) {
        continue;
      }
      const forced = this.isReadOnly[local] === 1;
      if (forced && !preserving) {
        throw new Error(
          `model bug: read-only operation ${model.describeOperation(operation.input, operation.outcome)} changed the state from ${model.describeState(this.state)} to ${model.describeState(nextState)}`,
        );
      }
      linearized.add(local);
      if (!memo.addIfNew(linearized, nextStateKey)) {
        linearized.remove(local);
        // An explored read-only step means this level was explored too (see above).
        if (forced && !this.backtrack()) {
          this.status = "illegal";
          break;
        }
        continue;
      }
      const depth = this.depth;
      this.stackNode[depth] = cursor;
      this.stackPass[depth] = forced ? forcedStep : this.pass;
      this.stackState[depth] = this.state;
      this.stackStateKey[depth] = this.stateKey;
      this.depth = depth + 1;
      this.state = nextState;
      this.stateKey = nextStateKey;
      if (!info) {
        this.okRemaining -= 1;
      }
      list.lift(cursor);
      this.cursor = next[0] as number;
      this.pass = passPreserving;
    }
    this.iterations += iterations;
    if (this.status === "running") {
      this.status = "ok";
      this.recordLongest(null);
    } else if (this.longest.blockedOperation === null) {
      this.recordLongest(this.cursor === -1 ? null : operationOfNode(this.cursor));
    }
    return this.status;
  }

  /**
   * Undoes the last step and resumes after it in the same pass; a read-only step is undone
   * together with the level below it. Returns false when nothing is left to undo.
   */
  private backtrack(): boolean {
    for (;;) {
      if (this.depth === 0) {
        return false;
      }
      this.depth -= 1;
      const depth = this.depth;
      const callNode = this.stackNode[depth] as number;
      const local = operationOfNode(callNode);
      this.state = this.stackState[depth] as S;
      this.stateKey = this.stackStateKey[depth] as string;
      this.linearized.remove(local);
      if (this.isInfo[local] === 0) {
        this.okRemaining += 1;
      }
      this.list.unlift(callNode);
      const pass = this.stackPass[depth] as number;
      if (pass !== forcedStep) {
        this.pass = pass;
        this.cursor = this.list.next[callNode] as number;
        return true;
      }
    }
  }

  /**
   * The deepest attempt so far: the full linearization once the status is "ok". While still
   * running, the current prefix counts too when it is deeper than any dead end met so far.
   */
  longestAttempt(): LongestAttempt {
    if (this.status === "running" && this.depth > this.longest.order.length) {
      this.recordLongest(null);
    }
    return this.longest;
  }

  private maybeRecordLongest(blockedOperation: number): void {
    const recorded = this.longest.order.length;
    if (this.depth > recorded || (this.depth === recorded && this.longest.blockedOperation === null)) {
      this.recordLongest(blockedOperation);
    }
  }

  private recordLongest(blockedOperation: number | null): void {
    const depth = this.depth;
    const order: number[] = new Array<number>(depth);
    const statesAfter: unknown[] = new Array<unknown>(depth);
    for (let index = 0; index < depth; index += 1) {
      order[index] = operationOfNode(this.stackNode[index] as number);
      statesAfter[index] = index + 1 < depth ? this.stackState[index + 1] : this.state;
    }
    this.longest = { order, statesAfter, blockedOperation, stateBefore: this.state };
  }
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) {
    throw new Error(`assertion failed: ${message}`);
  }
}
