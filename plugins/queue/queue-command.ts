// A queue operation, checked before the state machine touches its items.
import type { Json, Operation } from "../api.js";
import { badArgument, requireNoKey, requireNoValue, unknownOperation } from "../argument-checks.js";

export const QUEUE_PLUGIN_NAME = "queue";
export const queueOperationNames = ["enqueue", "dequeue", "size"] as const;

/** What a queue holds: a string or a finite number (generated values are unique integers). */
export type QueueItem = string | number;

export type QueueCommand = { f: "enqueue"; item: QueueItem } | { f: "dequeue" } | { f: "size" };

export function isQueueItem(value: Json | undefined): value is QueueItem {
  return typeof value === "string" || (typeof value === "number" && Number.isFinite(value));
}

export function parseQueueCommand(op: Operation): QueueCommand {
  switch (op.f) {
    case "enqueue":
      requireNoKey(QUEUE_PLUGIN_NAME, op);
      if (!isQueueItem(op.value)) {
        throw badArgument(QUEUE_PLUGIN_NAME, op, "value", "a string or a finite number", op.value);
      }
      return { f: "enqueue", item: op.value };
    case "dequeue":
    case "size":
      requireNoKey(QUEUE_PLUGIN_NAME, op);
      requireNoValue(QUEUE_PLUGIN_NAME, op);
      return { f: op.f };
    default:
      throw unknownOperation(QUEUE_PLUGIN_NAME, op.f, queueOperationNames);
  }
}
