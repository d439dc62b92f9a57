// Pairs each client invoke with its completion, keeping every outcome (the linearizability
// checker drops `fail`s; stats and perf need them).
import type { ClientEvent, HistoryEvent } from "../../history/event.js";

export interface OperationPair {
  invoke: ClientEvent;
  /** The ok/fail/info event; undefined when the history ends with the call still open. */
  completion: ClientEvent | undefined;
}

/** The outcome of a pair: an open call counts as info, as the history format says. */
export function outcomeOf(pair: OperationPair): "ok" | "fail" | "info" {
  const type = pair.completion?.type;
  return type === undefined || type === "invoke" ? "info" : type;
}

/** Pairs in invoke order. Throws on a completion without an open call (a malformed history). */
export function pairOperations(events: readonly HistoryEvent[]): OperationPair[] {
  const pairs: OperationPair[] = [];
  const openByProcess = new Map<number, OperationPair>();
  for (const event of events) {
    if (event.process === "nemesis") {
      continue;
    }
    if (event.type === "invoke") {
      if (openByProcess.has(event.process)) {
        throw new Error(`history event ${event.index}: process ${event.process} invokes with an operation open`);
      }
      const pair: OperationPair = { invoke: event, completion: undefined };
      openByProcess.set(event.process, pair);
      pairs.push(pair);
      continue;
    }
    const open = openByProcess.get(event.process);
    if (open === undefined) {
      throw new Error(`history event ${event.index}: ${event.type} of process ${event.process} has no open call`);
    }
    open.completion = event;
    openByProcess.delete(event.process);
  }
  return pairs;
}
