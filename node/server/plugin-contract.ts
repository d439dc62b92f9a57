// What the node checks of a plugin's answers before anything is written or sent, so that a plugin
// that breaks its contract (plugins/api.ts) is reported as such instead of damaging durable state
// or stopping a node with a misleading message. Every check is deterministic: each replica reaches
// the same verdict for the same committed entry.
import type { Json } from "../../plugins/api.js";

/** A plugin broke its contract in a way the node cannot work around (a snapshot it cannot store). */
export class PluginContractError extends Error {
  readonly code = "PLUGIN_CONTRACT";
  override readonly name = "PluginContractError";
}

/** Nesting deeper than this is refused: JSON.stringify would overflow the stack near 10,000. */
const RESULT_DEPTH_MAX = 256;

/**
 * Why `value` is not a JSON value that survives a round trip unchanged (undefined when it is):
 * no BigInt, undefined, functions, symbols, NaN or infinities, cycles, or class instances.
 */
export function jsonProblem(value: unknown, path = "result", depth = 0, seen: Set<object> = new Set()): string | undefined {
  if (value === null || typeof value === "string" || typeof value === "boolean") {
    return undefined;
  }
  if (typeof value === "number") {
    return Number.isFinite(value) ? undefined : `${path} is ${String(value)}, which JSON cannot encode`;
  }
  if (typeof value !== "object") {
    return `${path} is a ${typeof value}, which JSON cannot encode`;
  }
  if (depth >= RESULT_DEPTH_MAX) {
    return `${path} is nested deeper than ${RESULT_DEPTH_MAX} levels`;
  }
  if (seen.has(value)) {
    return `${path} refers to itself (a cycle)`;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) {
    return `${path} is a ${(value as { constructor?: { name?: string } }).constructor?.name ?? "class"} instance, not a plain object`;
  }
  seen.add(value);
  try {
    const entries: [string, unknown][] = Array.isArray(value) ? value.map((item, index) => [`[${index}]`, item]) : Object.entries(value).map(([key, item]) => [`.${key}`, item]);
    for (const [key, item] of entries) {
      const problem = jsonProblem(item, `${path}${key}`, depth + 1, seen);
      if (problem !== undefined) {
        return problem;
      }
    }
  } finally {
    seen.delete(value);
  }
  return undefined;
}

/** The plugin's snapshot() answer as bytes, or PluginContractError naming the plugin. */
export function checkedSnapshotBytes(pluginName: string, value: unknown): Uint8Array {
  if (value instanceof Uint8Array) {
    return value;
  }
  const what = value === null ? "null" : typeof value === "object" ? `a ${(value as object).constructor?.name ?? "object"}` : `a ${typeof value}`;
  throw new PluginContractError(`plugin ${pluginName}: snapshot() returned ${what}; the contract asks for a Uint8Array (nothing was written)`);
}

export type { Json };
