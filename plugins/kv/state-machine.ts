// The kv state machine: a Map from key to string; an absent key reads as null.
import { PluginError, type Json, type Operation, type StateMachine } from "../api.js";
import { decodeSnapshot, encodeSnapshot } from "../snapshot-codec.js";
import { KV_PLUGIN_NAME, parseKvCommand } from "./kv-command.js";

const SNAPSHOT_VERSION = 1;

export class KvStateMachine implements StateMachine {
  #values = new Map<string, string>();

  apply(op: Operation): Json {
    const command = parseKvCommand(op);
    const current = this.#values.get(command.key) ?? null;
    switch (command.f) {
      case "get":
        return current;
      case "put":
        this.#values.set(command.key, command.value);
        return null;
      case "append":
        this.#values.set(command.key, current === null ? command.value : current + command.value);
        return null;
      case "cas":
        if (current !== command.expected) {
          return false;
        }
        this.#values.set(command.key, command.replacement);
        return true;
      case "delete":
        this.#values.delete(command.key);
        return null;
    }
  }

  /** Entries sorted by key, so equal states give equal bytes whatever the order of writes. */
  snapshot(): Uint8Array {
    const keys = [...this.#values.keys()].sort();
    const entries: Json[] = keys.map((key) => [key, this.#values.get(key) ?? null]);
    return encodeSnapshot(KV_PLUGIN_NAME, SNAPSHOT_VERSION, entries);
  }

  restore(data: Uint8Array): void {
    const entries = decodeSnapshot(data, KV_PLUGIN_NAME, SNAPSHOT_VERSION);
    if (!Array.isArray(entries)) {
      throw new PluginError("BAD_SNAPSHOT", `kv snapshot: field "state" must be an array of [key, value] pairs`);
    }
    const values = new Map<string, string>();
    entries.forEach((entry, index) => {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== "string" || typeof entry[1] !== "string") {
        throw new PluginError("BAD_SNAPSHOT", `kv snapshot: state[${index}] must be a [key, value] pair of strings`);
      }
      if (values.has(entry[0])) {
        throw new PluginError("BAD_SNAPSHOT", `kv snapshot: state[${index}] repeats key ${JSON.stringify(entry[0])}`);
      }
      values.set(entry[0], entry[1]);
    });
    // Swapped in only once the whole snapshot checked out, so a bad one leaves the state as it was.
    this.#values = values;
  }
}
