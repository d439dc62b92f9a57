// The built-in "kv" plugin (alias "hash-table"): get/put/append/cas/delete on string keys.
import type { Plugin } from "../api.js";
import { KV_PLUGIN_NAME } from "./kv-command.js";
import { kvModel, type KvModelState } from "./model.js";
import { kvOperations } from "./operations.js";
import { KvStateMachine } from "./state-machine.js";

export const kvPlugin: Plugin<KvModelState> = {
  name: KV_PLUGIN_NAME,
  description:
    "A key/value store of strings: get (string or null), put, append (to an absent key: sets it), " +
    "cas [expected, new] (absent equals null; true when it swapped), delete.",
  operations: kvOperations,
  createStateMachine: () => new KvStateMachine(),
  model: kvModel,
};

export default kvPlugin;
