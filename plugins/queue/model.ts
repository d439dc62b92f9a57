// The queue sequential model. A state is immutable: the items, plus its memo key kept up to date
// incrementally (the items' JSON tokens joined by ","), so stateKey is O(1) and a step costs one
// array copy. JSON tokens cannot contain a bare "," outside a string, so the key is unambiguous.
// prepareHistory (prepare-queue-history.ts) makes the checker's search of a history of unique
// values tractable.
import type { Model, Operation, Outcome } from "../api.js";
import { describeOperationLine } from "../describe.js";
import { prepareQueueHistory } from "./prepare-queue-history.js";
import { isQueueItem, type QueueItem } from "./queue-command.js";

export interface QueueModelState {
  readonly items: readonly QueueItem[];
  /** items.map(JSON.stringify).join(","). */
  readonly key: string;
}

const EMPTY: QueueModelState = { items: [], key: "" };

export const queueModel: Model<QueueModelState> = {
  init: () => EMPTY,

  step(state: QueueModelState, input: Operation, outcome: Outcome): QueueModelState | undefined {
    const wellFormed =
      (input.key === undefined || input.key === null) && (input.f === "enqueue" ? isQueueItem(input.value) : input.value === null || input.value === undefined);
    switch (wellFormed ? input.f : undefined) {
      case "enqueue": {
        if (outcome.known && outcome.value !== null) {
          return undefined;
        }
        const item = input.value as QueueItem;
        const token = JSON.stringify(item);
        return { items: [...state.items, item], key: state.items.length === 0 ? token : `${state.key},${token}` };
      }
      case "dequeue": {
        const head = state.items[0];
        if (head === undefined) {
          return outcome.known && outcome.value !== null ? undefined : state;
        }
        if (outcome.known && outcome.value !== head) {
          return undefined;
        }
        const rest = state.items.slice(1);
        return { items: rest, key: rest.length === 0 ? "" : state.key.slice(JSON.stringify(head).length + 1) };
      }
      case "size":
        return outcome.known && outcome.value !== state.items.length ? undefined : state;
      default:
        // Malformed or unknown: the state machine rejects it (a definite failure), so no ok result.
        return outcome.known ? undefined : state;
    }
  },

  stateKey: (state: QueueModelState): string => state.key,

  partitionKey: (): string | null => null,

  describeOperation: describeOperationLine,

  describeState: (state: QueueModelState): string => `[${state.key}]`,

  prepareHistory: prepareQueueHistory,
};
