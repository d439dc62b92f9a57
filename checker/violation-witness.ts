// Why a history is not linearizable, as data: a cycle of orders that no linearization can meet,
// found by a model's prepareHistory (for kv: each read names the write it saw). Reports and
// summaries turn it into an explanation; PartitionResult.violationWitness carries it.
import type { PrecedenceStep } from "../plugins/api.js";
import type { HistoryOperation } from "./operations.js";

/** One order of the cycle: `before` must be linearized before `after` (null: the initial state). */
export interface WitnessStep {
  before: HistoryOperation | null;
  after: HistoryOperation | null;
  /** See PrecedenceStep in plugins/api.ts: real-time, read-from or write-order. */
  because: PrecedenceStep["because"];
  /** write-order: the operation (`before` or a read of its value) that returned before the other was called. */
  evidence?: [HistoryOperation, HistoryOperation];
}

export interface ViolationWitness {
  /** Each step's `after` is the next step's `before`; the last step's `after` is the first's `before`. */
  cycle: WitnessStep[];
}
