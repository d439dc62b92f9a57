// The counter sequential model: the state is the total; a read must return the sum of the adds
// linearized before it. One partition (partitionKey is null): every operation touches the total.
// prepareHistory (prepare-counter-history.ts) decides histories of positive adds without a search.
import type { Model, Operation, Outcome } from "../api.js";
import { describeOperationLine } from "../describe.js";
import { prepareCounterHistory } from "./prepare-counter-history.js";

export const counterModel: Model<number> = {
  init: () => 0,

  step(state: number, input: Operation, outcome: Outcome): number | undefined {
    const keyless = input.key === undefined || input.key === null;
    if (input.f === "add" && keyless && typeof input.value === "number" && Number.isSafeInteger(input.value)) {
      const sum = state + input.value;
      if (!Number.isSafeInteger(sum)) {
        // The state machine refuses an add that would overflow, so it has no effect.
        return outcome.known ? undefined : state;
      }
      return outcome.known && outcome.value !== null ? undefined : sum;
    }
    if (input.f === "read" && keyless && (input.value === null || input.value === undefined)) {
      return outcome.known && outcome.value !== state ? undefined : state;
    }
    // Malformed: the state machine rejects it (a definite failure), so it cannot have returned ok.
    return outcome.known ? undefined : state;
  },

  stateKey: (state: number): string => String(state),

  partitionKey: (): string | null => null,

  describeOperation: describeOperationLine,

  describeState: (state: number): string => `total ${state}`,

  prepareHistory: prepareCounterHistory,
};
