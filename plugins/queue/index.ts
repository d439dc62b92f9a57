// The built-in "queue" plugin: a FIFO queue of unique values.
import type { Plugin } from "../api.js";
import { queueModel, type QueueModelState } from "./model.js";
import { QUEUE_PLUGIN_NAME } from "./queue-command.js";
import { QueueStateMachine } from "./state-machine.js";

export const queuePlugin: Plugin<QueueModelState> = {
  name: QUEUE_PLUGIN_NAME,
  description: "A FIFO queue: enqueue (value a string or number, result null), dequeue (the head, or null when empty), size (read-only).",
  operations: {
    enqueue: { readOnly: false, keyed: false, argument: ({ unique }) => unique },
    dequeue: { readOnly: false, keyed: false, argument: () => null },
    size: { readOnly: true, keyed: false, argument: () => null },
  },
  createStateMachine: () => new QueueStateMachine(),
  model: queueModel,
};

export default queuePlugin;
