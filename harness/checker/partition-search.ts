// Lowe's just-in-time linearization search over one partition (Wing & Gong's algorithm with
// Lowe's memo, as in Porcupine's checkSingle). Resumable: `advance` runs a bounded number of
// iterations so the driver can share time fairly between partitions and honour a deadline.
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
  /** Local id of the op whose return was reached unlinearized (null when the search succeeded). */
  blockedOperation: number | null;
  /** Model state when `blockedOperation` had to be placed. */
  stateBefore: unknown;
}

export class PartitionSearch<S> {
  status: SearchStatus = "running";
  /** Iterations run so far (one candidate tried or one backtrack each). */
  iterations = 0;
  private readonly list: EntryList;
  private readonly linearized: LinearizedSet;
  private readonly memo: ExploredMemo;
  /** Call nodes of linearized operations, in order; stateStack[i] is the state before stack[i]. */
  private readonly stack: Int32Array;
  private readonly stateStack: S[] = [];
  private depth = 0;
  private state: S;
  private cursor: number;
  private longest: LongestAttempt;

  constructor(
    private readonly model: Model<S>,
    readonly operations: readonly HistoryOperation[],
    private readonly memoUsage: MemoUsage,
  ) {
    this.memo = new ExploredMemo(memoUsage);
    this.list = new EntryList(operations);
    this.linearized = new LinearizedSet(operations.length);
    this.stack = new Int32Array(operations.length);
    this.state = model.init();
    this.cursor = this.list.next[0] as number;
    this.longest = { order: [], statesAfter: [], blockedOperation: null, stateBefore: this.state };
  }

  /**
   * Runs at most `iterationsMax` iterations, or until the memo holds `memoEntriesMax` entries.
   * Returns the status; "running" means call again.
   */
  advance(iterationsMax: number, memoEntriesMax: number): SearchStatus {
    if (this.status !== "running") {
      return this.status;
    }
    const { list, model, linearized, stack, stateStack, memo, memoUsage, operations } = this;
    const next = list.next;
    let cursor = this.cursor;
    let state = this.state;
    let depth = this.depth;
    let iterations = 0;
    while (cursor !== -1) {
      if (iterations >= iterationsMax || memoUsage.entries >= memoEntriesMax) {
        break;
      }
      iterations += 1;
      if (isCallNode(cursor)) {
        const local = operationOfNode(cursor);
        const operation = operations[local] as HistoryOperation;
        const nextState = model.step(state, operation.input, operation.outcome);
        if (nextState !== undefined) {
          linearized.add(local);
          if (memo.addIfNew(linearized, model.stateKey(nextState))) {
            stack[depth] = cursor;
            stateStack[depth] = state;
            depth += 1;
            state = nextState;
            list.lift(cursor);
            cursor = next[0] as number;
            continue;
          }
          linearized.remove(local);
        }
        cursor = next[cursor] as number;
        continue;
      }
      // A return entry: its operation must come before everything after it, yet no candidate
      // before it could be linearized from here. Remember the deepest such point, then backtrack.
      if (depth >= this.longest.order.length && (depth > this.longest.order.length || this.longest.blockedOperation === null)) {
        this.recordLongest(depth, state, operationOfNode(cursor));
      }
      if (depth === 0) {
        this.status = "illegal";
        this.finish(cursor, state, depth, iterations);
        return this.status;
      }
      depth -= 1;
      const callNode = stack[depth] as number;
      state = stateStack[depth] as S;
      linearized.remove(operationOfNode(callNode));
      list.unlift(callNode);
      cursor = next[callNode] as number;
    }
    if (cursor === -1) {
      this.status = "ok";
      this.finish(cursor, state, depth, iterations);
      this.recordLongest(depth, state, null);
      return this.status;
    }
    this.finish(cursor, state, depth, iterations);
    return this.status;
  }

  /**
   * The deepest attempt so far: the full linearization once the status is "ok". While still
   * running, the current prefix counts too when it is deeper than any dead end met so far.
   */
  longestAttempt(): LongestAttempt {
    if (this.status === "running" && this.depth > this.longest.order.length) {
      this.recordLongest(this.depth, this.state, null);
    }
    return this.longest;
  }

  private finish(cursor: number, state: S, depth: number, iterations: number): void {
    this.cursor = cursor;
    this.state = state;
    this.depth = depth;
    this.iterations += iterations;
  }

  private recordLongest(depth: number, state: S, blockedOperation: number | null): void {
    const order: number[] = new Array<number>(depth);
    const statesAfter: unknown[] = new Array<unknown>(depth);
    for (let index = 0; index < depth; index += 1) {
      order[index] = operationOfNode(this.stack[index] as number);
      statesAfter[index] = index + 1 < depth ? this.stateStack[index + 1] : state;
    }
    this.longest = { order, statesAfter, blockedOperation, stateBefore: state };
  }
}
