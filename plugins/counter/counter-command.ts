// A counter operation, checked before the state machine touches its total.
import { PluginError, type Operation } from "../api.js";
import { badArgument, isSafeInteger, requireNoKey, requireNoValue, unknownOperation } from "../argument-checks.js";

export const COUNTER_PLUGIN_NAME = "counter";
export const counterOperationNames = ["add", "read"] as const;

export type CounterCommand = { f: "add"; delta: number } | { f: "read" };

export function parseCounterCommand(op: Operation): CounterCommand {
  switch (op.f) {
    case "add":
      requireNoKey(COUNTER_PLUGIN_NAME, op);
      if (!isSafeInteger(op.value)) {
        throw badArgument(COUNTER_PLUGIN_NAME, op, "value", "a safe integer (the delta)", op.value);
      }
      return { f: "add", delta: op.value };
    case "read":
      requireNoKey(COUNTER_PLUGIN_NAME, op);
      requireNoValue(COUNTER_PLUGIN_NAME, op);
      return { f: "read" };
    default:
      throw unknownOperation(COUNTER_PLUGIN_NAME, op.f, counterOperationNames);
  }
}

/** The total after adding `delta`, or a BAD_ARGUMENT error when it would leave the safe integers. */
export function checkedSum(total: number, delta: number): number {
  const sum = total + delta;
  if (!Number.isSafeInteger(sum)) {
    throw new PluginError("BAD_ARGUMENT", `counter add: field "value" (${delta}) would take the total ${total} outside the safe integers`);
  }
  return sum;
}
