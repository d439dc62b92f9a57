// Applies a model's optional prepareHistory hook to one partition before the search: leaves out
// the operations it may omit, wraps its prepared model (which steps by operation index) as a
// Model for the search, and turns its precedences into search constraints. An unknown-outcome operation that must precede an operation that must take effect
// must take effect too, before that operation returns: it becomes required, with that return as
// its own (a deadline that only states what the precedence already implies, and that lets the
// just-in-time search force it in time instead of trying it last).
import type { HistoryPreparation, Model, Operation, PreparedModel, TimedOperation } from "../plugins/api.js";
import type { HistoryOperation } from "./operations.js";
import { assert } from "../lib/assert.js";
import type { ViolationWitness } from "./violation-witness.js";

export interface PreparedPartition {
  /** The model to search with; describeState describes its states. */
  model: Model<unknown>;
  /** Whether the model is the hook's: its read-only steps may change the state key. */
  specialised: boolean;
  /** The operations to search: copies where an operation became required, without omitted ones. */
  operations: HistoryOperation[];
  /** Pairs of positions in `operations`: the first must be linearized before the second. */
  precedences: [number, number][];
  /** Search order hints by position in `operations`: lower first. */
  priorities: Map<number, number>;
  /** A certain violation the model found without searching. */
  violation: PreparedViolation | null;
  /** A linearization the model found without searching, verified: the partition is linearizable. */
  linearization: HistoryOperation[] | null;
}

export interface PreparedViolation {
  operation: HistoryOperation;
  reason: string;
  witness: ViolationWitness | null;
}

export function preparePartition<S>(model: Model<S>, operations: readonly HistoryOperation[]): PreparedPartition {
  // Decided partitions keep no copy of their operations.
  const unprepared = (kept: HistoryOperation[]): PreparedPartition => ({
    model: model as Model<unknown>,
    specialised: false,
    operations: kept,
    precedences: [],
    priorities: new Map(),
    violation: null,
    linearization: null,
  });
  if (model.prepareHistory === undefined) {
    return unprepared([...operations]);
  }
  const timed: TimedOperation[] = operations.map((operation) => ({
    input: operation.input,
    outcome: operation.outcome,
    call: operation.invokeIndex,
    ret: operation.completionIndex,
  }));
  const preparation = model.prepareHistory(timed);
  if (preparation.violation !== undefined) {
    return { ...unprepared([]), violation: violationOf(operations, preparation.violation) };
  }
  if (preparation.linearization !== undefined) {
    return { ...unprepared([]), linearization: verifiedLinearization(model, operations, preparation) };
  }
  if (isEmpty(preparation)) {
    return unprepared([...operations]);
  }
  const omitted = new Uint8Array(operations.length);
  for (const index of preparation.omit ?? []) {
    const operation = operations[index];
    assertValid(operation !== undefined && operation.type === "info", `omit: ${index} is not an unknown-outcome operation`);
    omitted[index] = 1;
  }
  const kept: HistoryOperation[] = [];
  const position = new Int32Array(operations.length).fill(-1);
  // Each kept operation gets its own input object, by which the wrapper finds its index.
  const indexOfInput = new Map<Operation, number>();
  operations.forEach((operation, index) => {
    if (omitted[index] === 0) {
      position[index] = kept.length;
      const input = { ...operation.input };
      indexOfInput.set(input, index);
      kept.push({ ...operation, input });
    }
  });
  // Precedences with an omitted end constrain nothing that is searched.
  const precedences: [number, number][] = [];
  for (const [before, after] of preparation.precedences ?? []) {
    assertValid(
      Number.isInteger(before) && Number.isInteger(after) && before !== after && operations[before] !== undefined && operations[after] !== undefined,
      `precedence [${before}, ${after}] does not name two operations`,
    );
    const from = position[before] as number;
    const to = position[after] as number;
    if (from !== -1 && to !== -1) {
      precedences.push([from, to]);
    }
  }
  const priorities = new Map<number, number>();
  for (const [index, priority] of preparation.priorities ?? []) {
    const at = position[index];
    if (at !== undefined && at !== -1 && Number.isFinite(priority)) {
      priorities.set(at, priority);
    }
  }
  const prepared = preparation.model;
  return {
    model: prepared === undefined ? (model as Model<unknown>) : wrapPrepared(model, prepared, indexOfInput),
    specialised: prepared !== undefined,
    operations: kept,
    precedences: requireUnknownPredecessors(kept, precedences),
    priorities,
    violation: null,
    linearization: null,
  };
}

function isEmpty(preparation: HistoryPreparation): boolean {
  return (
    preparation.model === undefined &&
    (preparation.omit ?? []).length === 0 &&
    (preparation.precedences ?? []).length === 0 &&
    (preparation.priorities?.size ?? 0) === 0
  );
}

function violationOf(operations: readonly HistoryOperation[], violation: NonNullable<HistoryPreparation["violation"]>): PreparedViolation {
  const operationAt = (index: number, field: string): HistoryOperation => {
    const operation = operations[index];
    assertValid(operation !== undefined, `violation: ${field} ${index} is not an operation`);
    return operation;
  };
  const endOf = (index: number | null, field: string): HistoryOperation | null => (index === null ? null : operationAt(index, field));
  const operation = operationAt(violation.operation, "operation");
  if (violation.cycle === undefined) {
    return { operation, reason: violation.reason, witness: null };
  }
  const cycle = violation.cycle.map((step) => ({
    before: endOf(step.before, "cycle before"),
    after: endOf(step.after, "cycle after"),
    because: step.because,
    ...(step.evidence === undefined
      ? {}
      : {
          evidence: [operationAt(step.evidence[0], "cycle evidence"), operationAt(step.evidence[1], "cycle evidence")] as [HistoryOperation, HistoryOperation],
        }),
  }));
  cycle.forEach((step, position) => {
    const next = cycle[(position + 1) % cycle.length];
    assertValid(next !== undefined && step.after === next.before, "violation: the cycle's steps do not join up");
  });
  return { operation, reason: violation.reason, witness: { cycle } };
}

/**
 * The hook's linearization, checked: every ok operation once, no operation twice, real-time order
 * kept, and every step legal for the model. A linearization that fails is a bug in the hook.
 */
function verifiedLinearization<S>(model: Model<S>, operations: readonly HistoryOperation[], preparation: HistoryPreparation): HistoryOperation[] {
  const order = preparation.linearization ?? [];
  const placed = new Uint8Array(operations.length);
  const linearization: HistoryOperation[] = [];
  // Messages are built only on failure: this loop runs once per operation of the history.
  let state = model.init();
  for (const index of order) {
    const operation = operations[index];
    if (operation === undefined || placed[index] === 1) {
      assertValid(false, `linearization: ${index} is not an operation or appears twice`);
    }
    placed[index] = 1;
    const next = model.step(state, operation.input, operation.outcome);
    if (next === undefined) {
      assertValid(false, `linearization: the model refuses operation ${index} at position ${linearization.length}`);
    }
    state = next;
    linearization.push(operation);
  }
  for (let index = 0; index < operations.length; index += 1) {
    if ((operations[index] as HistoryOperation).type === "ok" && placed[index] === 0) {
      assertValid(false, `linearization: ok operation ${index} is missing`);
    }
  }
  // Real time: no operation may come after one that was called after it returned.
  let earliestLaterReturn = Infinity;
  for (let position = linearization.length - 1; position >= 0; position -= 1) {
    const operation = linearization[position] as HistoryOperation;
    if (operation.invokeIndex > earliestLaterReturn) {
      assertValid(false, `linearization: operation ${operation.id} comes after one that returned before it was called`);
    }
    earliestLaterReturn = Math.min(earliestLaterReturn, operation.completionIndex);
  }
  return linearization;
}

function wrapPrepared<S>(model: Model<S>, prepared: PreparedModel<unknown>, indexOfInput: ReadonlyMap<Operation, number>): Model<unknown> {
  return {
    init: () => prepared.init(),
    step: (state, input) => {
      const index = indexOfInput.get(input);
      assertValid(index !== undefined, "invariant: the search steps only the partition's kept operations");
      return prepared.step(state, index);
    },
    stateKey: (state) => prepared.stateKey(state),
    partitionKey: (input) => model.partitionKey(input),
    describeOperation: (input, outcome) => model.describeOperation(input, outcome),
    describeState: (state) => prepared.describeState(state),
  };
}

/**
 * Makes an info operation required, with the earliest deadline, when it precedes a required
 * one, to a fixpoint (chains of info operations). Returns the precedences to search: one whose
 * first operation is called only after the second returned cannot be met, so the history has no
 * linearization containing the second; the search finds that without the pair, which is dropped
 * so that every required operation keeps a return after its call.
 */
function requireUnknownPredecessors(operations: HistoryOperation[], precedences: [number, number][]): [number, number][] {
  const usable = precedences.filter(([before, after]) => {
    const first = operations[before] as HistoryOperation;
    const second = operations[after] as HistoryOperation;
    return second.type === "info" || first.invokeIndex < second.completionIndex;
  });
  const predecessorsOf = new Map<number, number[]>();
  for (const [before, after] of usable) {
    const list = predecessorsOf.get(after) ?? [];
    list.push(before);
    predecessorsOf.set(after, list);
  }
  const work = operations.flatMap((operation, index) => (operation.type === "ok" ? [index] : []));
  while (work.length > 0) {
    const after = work.pop() as number;
    const second = operations[after] as HistoryOperation;
    for (const before of predecessorsOf.get(after) ?? []) {
      const first = operations[before] as HistoryOperation;
      if (first.invokeIndex >= second.completionIndex || first.completionIndex <= second.completionIndex) {
        continue;
      }
      first.type = "ok";
      first.ret = second.ret;
      first.completionIndex = second.completionIndex;
      work.push(before);
    }
  }
  return usable.filter(([before, after]) => {
    const first = operations[before] as HistoryOperation;
    const second = operations[after] as HistoryOperation;
    return second.type === "info" || first.invokeIndex < second.completionIndex;
  });
}

/** The plugin's prepareHistory broke its contract: a bug in the plugin, reported as one. */
function assertValid(condition: boolean, message: string): asserts condition {
  assert(condition, `model.prepareHistory: ${message}`);
}
