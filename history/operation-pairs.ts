// Pairs each client invoke with its completion: the one pairing of a history, shared by the checker
// (which keeps ok and info operations for its search) and the harness' checks and report (which
// need every outcome). Nemesis events are not operations and are skipped.
import type { ClientEvent, HistoryEvent } from "./event.js";
import { InvariantError } from "../lib/assert.js";

export interface OperationPair {
  invoke: ClientEvent;
  /** The invoke's position in the event list (real-time order compares positions, not times). */
  invokeIndex: number;
  /** The ok/fail/info event; undefined when the history ends with the call still open. */
  completion: ClientEvent | undefined;
  /** The completion's position in the event list; undefined with `completion`. */
  completionIndex: number | undefined;
}

/** The outcome of a pair: an open call counts as info, as the history format says. */
export function outcomeOf(pair: OperationPair): "ok" | "fail" | "info" {
  const type = pair.completion?.type;
  return type === undefined || type === "invoke" ? "info" : type;
}

/**
 * Pairs in invoke order. The events must be a well-formed history (parseHistory checks files; the
 * harness writes them so): a second invoke on an open process or a completion without an open call
 * is a programmer error here.
 */
export function pairOperations(events: readonly HistoryEvent[]): OperationPair[] {
  const pairs: OperationPair[] = [];
  const openByProcess = new Map<number, OperationPair>();
  for (let eventIndex = 0; eventIndex < events.length; eventIndex += 1) {
    const event = events[eventIndex]!;
    if (event.process === "nemesis") {
      continue;
    }
    if (event.type === "invoke") {
      if (openByProcess.has(event.process)) {
        throw new InvariantError(`history event ${eventIndex}: process ${event.process} invokes with an operation open`);
      }
      const pair: OperationPair = { invoke: event, invokeIndex: eventIndex, completion: undefined, completionIndex: undefined };
      openByProcess.set(event.process, pair);
      pairs.push(pair);
      continue;
    }
    const open = openByProcess.get(event.process);
    if (open === undefined) {
      throw new InvariantError(`history event ${eventIndex}: ${event.type} of process ${event.process} has no open call`);
    }
    open.completion = event;
    open.completionIndex = eventIndex;
    openByProcess.delete(event.process);
  }
  return pairs;
}
