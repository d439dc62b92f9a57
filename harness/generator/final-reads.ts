// The final phase: after every fault is healed and the cluster has recovered, read everything once
// (each key of a keyed plugin) so the checker sees the end state. A queue is drained instead, so
// its check can tell a lost value from one still enqueued.
import type { OperationSpec } from "../../plugins/api.js";
import { keyName, type GeneratedOperation, type OperationGenerator } from "./generator.js";

export interface FinalPhasePlan {
  /** Read-only operations to run once each. */
  reads: GeneratedOperation[];
  /** When set, run this operation repeatedly until it returns ok with null (an empty queue). */
  drain: string | undefined;
}

export function planFinalPhase(generator: OperationGenerator, operations: Readonly<Record<string, OperationSpec>>, keys: number): FinalPhasePlan {
  const reads: GeneratedOperation[] = [];
  for (const [f, spec] of Object.entries(operations)) {
    if (!spec.readOnly) {
      continue;
    }
    if (spec.keyed) {
      for (let index = 0; index < keys; index += 1) {
        reads.push(generator.operation(f, keyName(index)));
      }
    } else {
      reads.push(generator.operation(f, null));
    }
  }
  // The built-in queue plugin's dequeue answers null on an empty queue; third-party plugins do
  // not say which operation drains them, so they get reads only.
  const drain = operations["dequeue"] !== undefined && operations["enqueue"] !== undefined ? "dequeue" : undefined;
  return { reads, drain };
}
