// Pairs each invoke with its completion. `fail` operations are dropped (they certainly did not
// take effect); `info` operations and calls left open at the end of the file may take effect at
// any time after their call, so they return at +infinity with an unknown outcome.
import type { Operation, Outcome } from "../plugins/api.js";
import type { ClientEvent, HistoryEvent } from "../history/event.js";
import { assert } from "../lib/assert.js";

export interface HistoryOperation {
  /** Position in the operation list (0-based), stable across partitions. */
  id: number;
  process: number;
  input: Operation;
  outcome: Outcome;
  /** Invoke time (ns). */
  call: number;
  /** Completion time (ns); +Infinity for info and unfinished calls. */
  ret: number;
  /** Position of the invoke in the event list; real-time order compares these, not times. */
  invokeIndex: number;
  /** Position of the completion in the event list; +Infinity for info and unfinished calls. */
  completionIndex: number;
  /** The completion event's type; "info" also for calls the file never completes. */
  type: "ok" | "info";
}

export interface PairedOperations {
  operations: HistoryOperation[];
  /** How many `fail` operations were dropped. */
  failedCount: number;
}

/**
 * Pairs events that parseHistory already validated (one open call per process, completions
 * matching an open call), so a violation here is a programmer error.
 */
export function pairOperations(events: readonly HistoryEvent[]): PairedOperations {
  const openByProcess = new Map<number, { event: ClientEvent; eventIndex: number }>();
  // Operations are collected in invoke order so ids follow the history.
  const slots: (HistoryOperation | null)[] = [];
  const slotByProcess = new Map<number, number>();
  let failedCount = 0;
  for (let eventIndex = 0; eventIndex < events.length; eventIndex += 1) {
    const event = events[eventIndex];
    if (event === undefined || event.process === "nemesis") {
      continue;
    }
    if (event.type === "invoke") {
      assert(!openByProcess.has(event.process), `invariant: process ${event.process} has one open call`);
      openByProcess.set(event.process, { event, eventIndex });
      slotByProcess.set(event.process, slots.length);
      slots.push(null);
      continue;
    }
    const open = openByProcess.get(event.process);
    const slot = slotByProcess.get(event.process);
    assert(open !== undefined && slot !== undefined, `invariant: ${event.type} at event ${eventIndex} has an open call`);
    openByProcess.delete(event.process);
    if (event.type === "fail") {
      failedCount += 1;
      continue;
    }
    const known = event.type === "ok";
    slots[slot] = {
      id: -1,
      process: event.process,
      input: inputOf(open.event),
      outcome: known ? { known: true, value: event.value } : { known: false },
      call: open.event.time,
      ret: known ? event.time : Infinity,
      invokeIndex: open.eventIndex,
      completionIndex: known ? eventIndex : Infinity,
      type: known ? "ok" : "info",
    };
  }
  for (const [process, open] of openByProcess) {
    const slot = slotByProcess.get(process);
    assert(slot !== undefined, "invariant: every open call has a slot");
    slots[slot] = {
      id: -1,
      process,
      input: inputOf(open.event),
      outcome: { known: false },
      call: open.event.time,
      ret: Infinity,
      invokeIndex: open.eventIndex,
      completionIndex: Infinity,
      type: "info",
    };
  }
  const operations: HistoryOperation[] = [];
  for (const operation of slots) {
    if (operation !== null) {
      operation.id = operations.length;
      operations.push(operation);
    }
  }
  return { operations, failedCount };
}

function inputOf(event: ClientEvent): Operation {
  return event.key === undefined ? { f: event.f, value: event.value } : { f: event.f, key: event.key, value: event.value };
}
