// A deliberately naive linearizability checker for differential tests: tries every order of the
// operations that respects real time, over the whole history at once (the state is one model state
// per partition key, so the checker's partitioning is checked too), with no memo and no linked list. An info
// operation may be placed anywhere after its call or left out (it never took effect).
// Exponential: only for histories of a handful of operations.
import type { Model } from "../plugins/api.js";
import type { HistoryOperation } from "./operations.js";

export function isLinearizableBruteForce<S>(model: Model<S>, operations: readonly HistoryOperation[]): boolean {
  const placed = new Array<boolean>(operations.length).fill(false);
  const mustPlace = operations.filter((operation) => operation.type === "ok").length;

  // The whole object's state: one model state per partition key.
  type WholeState = ReadonlyMap<string | null, S>;
  const search = (state: WholeState, placedOk: number): boolean => {
    if (placedOk === mustPlace) {
      return true;
    }
    for (let candidate = 0; candidate < operations.length; candidate += 1) {
      if (placed[candidate] || !allPredecessorsPlaced(candidate)) {
        continue;
      }
      const operation = operations[candidate] as HistoryOperation;
      const key = model.partitionKey(operation.input);
      const next = model.step(state.get(key) ?? model.init(), operation.input, operation.outcome);
      if (next === undefined) {
        continue;
      }
      placed[candidate] = true;
      const found = search(new Map(state).set(key, next), placedOk + (operation.type === "ok" ? 1 : 0));
      placed[candidate] = false;
      if (found) {
        return true;
      }
    }
    return false;
  };

  // Real time: a precedes b when a returned before b was invoked. Info ops never return, so
  // they precede nothing; and an unplaced ok op that returned before `candidate` blocks it.
  const allPredecessorsPlaced = (candidate: number): boolean => {
    const invokeIndex = (operations[candidate] as HistoryOperation).invokeIndex;
    return operations.every((other, index) => placed[index] || !(other.completionIndex < invokeIndex));
  };

  return search(new Map(), 0);
}
