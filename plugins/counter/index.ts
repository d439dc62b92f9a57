// The built-in "counter" plugin: add an integer delta, read the total.
import type { Plugin } from "../api.js";
import { COUNTER_PLUGIN_NAME } from "./counter-command.js";
import { counterModel } from "./model.js";
import { CounterStateMachine } from "./state-machine.js";

/** The largest delta a generated add uses; deltas are 1..ADD_DELTA_MAX, so the total only grows. */
export const ADD_DELTA_MAX = 5;

export const counterPlugin: Plugin<number> = {
  name: COUNTER_PLUGIN_NAME,
  description: "One integer total starting at 0: add (value = integer delta, result null), read (result the total).",
  operations: {
    add: { readOnly: false, keyed: false, argument: ({ random }) => 1 + Math.floor(random() * ADD_DELTA_MAX) },
    read: { readOnly: true, keyed: false, argument: () => null },
  },
  createStateMachine: () => new CounterStateMachine(),
  model: counterModel,
};

export default counterPlugin;
