// The counter state machine: one integer total, starting at 0.
import { PluginError, type Json, type Operation, type StateMachine } from "../api.js";
import { decodeSnapshot, encodeSnapshot } from "../snapshot-codec.js";
import { checkedSum, COUNTER_PLUGIN_NAME, parseCounterCommand } from "./counter-command.js";

const SNAPSHOT_VERSION = 1;

export class CounterStateMachine implements StateMachine {
  #total = 0;

  apply(op: Operation): Json {
    const command = parseCounterCommand(op);
    switch (command.f) {
      case "add":
        this.#total = checkedSum(this.#total, command.delta);
        return null;
      case "read":
        return this.#total;
    }
  }

  snapshot(): Uint8Array {
    return encodeSnapshot(COUNTER_PLUGIN_NAME, SNAPSHOT_VERSION, this.#total);
  }

  restore(data: Uint8Array): void {
    const total = decodeSnapshot(data, COUNTER_PLUGIN_NAME, SNAPSHOT_VERSION);
    if (typeof total !== "number" || !Number.isSafeInteger(total)) {
      throw new PluginError("BAD_SNAPSHOT", `counter snapshot: field "state" must be a safe integer, got ${JSON.stringify(total)}`);
    }
    this.#total = total;
  }
}
