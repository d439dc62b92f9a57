// The history as one doubly-linked list of call and return entries in real-time order, the
// structure of Lowe's just-in-time linearization search (as in Porcupine). Linearizing an
// operation "lifts" its call and return out of the list; backtracking "unlifts" them, which
// restores the exact links because entries are unlifted in reverse order of lifting.
//
// Arrays of integers instead of node objects: the search touches these millions of times.
import type { HistoryOperation } from "./operations.js";
import { assert } from "../lib/assert.js";

/** Node 0 is the head sentinel. The call of local op i is node 2i+1, its return node 2i+2. */
export class EntryList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** How many operations the list holds. */
  readonly operationCount: number;

  constructor(operations: readonly HistoryOperation[]) {
    const operationCount = operations.length;
    const nodeCount = 2 * operationCount + 1;
    this.operationCount = operationCount;
    this.next = new Int32Array(nodeCount).fill(-1);
    this.prev = new Int32Array(nodeCount).fill(-1);
    // Real-time order is file order; calls that never return sort after every finite return.
    const nodes: number[] = [];
    const position = new Float64Array(nodeCount);
    const infinityBase = Number.MAX_SAFE_INTEGER / 2;
    operations.forEach((operation, local) => {
      assert(operation.invokeIndex < operation.completionIndex, "invariant: an operation returns after its call");
      position[2 * local + 1] = operation.invokeIndex;
      position[2 * local + 2] = Number.isFinite(operation.completionIndex) ? operation.completionIndex : infinityBase + local;
      nodes.push(2 * local + 1, 2 * local + 2);
    });
    nodes.sort((a, b) => (position[a] ?? 0) - (position[b] ?? 0));
    let previous = 0;
    for (const node of nodes) {
      this.next[previous] = node;
      this.prev[node] = previous;
      previous = node;
    }
  }

  /** Removes the call node and its return node (the operation is linearized). */
  lift(callNode: number): void {
    const { next, prev } = this;
    const returnNode = callNode + 1;
    const beforeCall = prev[callNode] as number;
    const afterCall = next[callNode] as number;
    next[beforeCall] = afterCall;
    // A call always has its own return after it, so afterCall is never -1.
    prev[afterCall] = beforeCall;
    const beforeReturn = prev[returnNode] as number;
    const afterReturn = next[returnNode] as number;
    next[beforeReturn] = afterReturn;
    if (afterReturn !== -1) {
      prev[afterReturn] = beforeReturn;
    }
  }

  /** Puts back what lift(callNode) removed; must be called in reverse lift order. */
  unlift(callNode: number): void {
    const { next, prev } = this;
    const returnNode = callNode + 1;
    const beforeReturn = prev[returnNode] as number;
    const afterReturn = next[returnNode] as number;
    next[beforeReturn] = returnNode;
    if (afterReturn !== -1) {
      prev[afterReturn] = returnNode;
    }
    const beforeCall = prev[callNode] as number;
    const afterCall = next[callNode] as number;
    next[beforeCall] = callNode;
    prev[afterCall] = callNode;
  }
}

export function isCallNode(node: number): boolean {
  return (node & 1) === 1;
}

export function operationOfNode(node: number): number {
  return (node - 1) >> 1;
}
