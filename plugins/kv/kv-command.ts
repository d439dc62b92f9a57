// A kv operation, checked: the state machine parses every operation before touching its state,
// so a bad one throws without a partial change.
import type { Operation } from "../api.js";
import { badArgument, requireKey, requireNoValue, requireString, unknownOperation } from "../argument-checks.js";

export const KV_PLUGIN_NAME = "kv";
export const kvOperationNames = ["get", "put", "append", "cas", "delete"] as const;

export type KvCommand =
  | { f: "get"; key: string }
  | { f: "put"; key: string; value: string }
  | { f: "append"; key: string; value: string }
  | { f: "cas"; key: string; expected: string | null; replacement: string }
  | { f: "delete"; key: string };

const CAS_SHAPE = "[expected: string or null, new: string]";

export function parseKvCommand(op: Operation): KvCommand {
  switch (op.f) {
    case "get":
      requireNoValue(KV_PLUGIN_NAME, op);
      return { f: "get", key: requireKey(KV_PLUGIN_NAME, op) };
    case "put":
      return { f: "put", key: requireKey(KV_PLUGIN_NAME, op), value: requireString(KV_PLUGIN_NAME, op) };
    case "append":
      return { f: "append", key: requireKey(KV_PLUGIN_NAME, op), value: requireString(KV_PLUGIN_NAME, op) };
    case "cas": {
      const key = requireKey(KV_PLUGIN_NAME, op);
      const pair = op.value;
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw badArgument(KV_PLUGIN_NAME, op, "value", CAS_SHAPE, pair);
      }
      const [expected, replacement] = pair;
      if (expected !== null && typeof expected !== "string") {
        throw badArgument(KV_PLUGIN_NAME, op, "value[0] (expected)", "a string or null", expected);
      }
      if (typeof replacement !== "string") {
        throw badArgument(KV_PLUGIN_NAME, op, "value[1] (new)", "a string", replacement);
      }
      return { f: "cas", key, expected: expected ?? null, replacement };
    }
    case "delete":
      requireNoValue(KV_PLUGIN_NAME, op);
      return { f: "delete", key: requireKey(KV_PLUGIN_NAME, op) };
    default:
      throw unknownOperation(KV_PLUGIN_NAME, op.f, kvOperationNames);
  }
}
