// Argument checks shared by the built-in state machines. Each throws PluginError BAD_ARGUMENT with a
// message naming the plugin, the operation and the field, e.g. `kv put: field "value" must be a string, got 3`.
import { PluginError, type Json, type Operation } from "./api.js";

export function describeJsonType(value: unknown): string {
  if (value === undefined) {
    return "nothing";
  }
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

export function badArgument(plugin: string, op: Operation, field: string, expected: string, got: unknown): PluginError {
  return new PluginError("BAD_ARGUMENT", `${plugin} ${op.f}: field "${field}" must be ${expected}, got ${describeJsonType(got)}`);
}

export function unknownOperation(plugin: string, f: unknown, known: readonly string[]): PluginError {
  return new PluginError("UNKNOWN_OPERATION", `${plugin}: unknown operation ${describeJsonType(f)}; known: ${known.join(", ")}`);
}

/** The operation's key, which must be a string. */
export function requireKey(plugin: string, op: Operation): string {
  if (typeof op.key !== "string") {
    throw badArgument(plugin, op, "key", "a string", op.key);
  }
  return op.key;
}

/** For operations that take no key: null or absent. */
export function requireNoKey(plugin: string, op: Operation): void {
  if (op.key !== undefined && op.key !== null) {
    throw badArgument(plugin, op, "key", "null (this operation takes no key)", op.key);
  }
}

/** For operations that take no argument: null or absent. */
export function requireNoValue(plugin: string, op: Operation): void {
  if (op.value !== null && op.value !== undefined) {
    throw badArgument(plugin, op, "value", "null (this operation takes no argument)", op.value);
  }
}

export function requireString(plugin: string, op: Operation): string {
  if (typeof op.value !== "string") {
    throw badArgument(plugin, op, "value", "a string", op.value);
  }
  return op.value;
}

export function isSafeInteger(value: Json | undefined): value is number {
  return typeof value === "number" && Number.isSafeInteger(value);
}
