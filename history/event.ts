// The history format (JSON Lines), shared by the harness that records it and the checker that reads it.
// Field names are stable: see README "History format".
import type { Json } from "../plugins/api.js";

export type EventType = "invoke" | "ok" | "fail" | "info";

export interface ClientEvent {
  /** Integer id of the client process; a process has at most one operation open. */
  process: number;
  type: EventType;
  f: string;
  key?: string | null;
  /** invoke: the argument; ok: the result; fail/info: usually the argument again, or null. */
  value: Json;
  /** Nanoseconds since the run started, non-decreasing in file order. */
  time: number;
  /** Line number, from 0. */
  index: number;
  /** Optional: why an operation failed or is indeterminate, and which node served it. */
  error?: string;
  node?: string;
}

export interface NemesisEvent {
  process: "nemesis";
  type: "invoke" | "info";
  f: string;
  value: Json;
  time: number;
  index: number;
}

export type HistoryEvent = ClientEvent | NemesisEvent;

/**
 * How deeply a line's JSON may nest. Histories hold operations, not documents: this leaves room for
 * any plugin's values while keeping every recursive walk (describe, stringify, a model's state key)
 * far from the call stack's limit, which a 100,000-deep value overflows.
 */
export const historyNestingMax = 256;
