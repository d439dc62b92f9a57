// The operations the linearizability search works on. `fail` operations are dropped (they certainly
// did not take effect); `info` operations and calls left open at the end of the file may take
// effect at any time after their call, so they return at +infinity with an unknown outcome.
import type { Json, Operation, Outcome } from "../plugins/api.js";
import type { ClientEvent, HistoryEvent } from "../history/event.js";
import { pairOperations } from "../history/operation-pairs.js";

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

/** Shared by every operation of unknown outcome; never mutated. */
const unknownOutcome: Outcome = Object.freeze({ known: false });

// Results that many operations share (a put's null, a cas's true or false) share one frozen outcome.
const nullOutcome: Outcome = Object.freeze({ known: true, value: null });
const trueOutcome: Outcome = Object.freeze({ known: true, value: true });
const falseOutcome: Outcome = Object.freeze({ known: true, value: false });

function knownOutcome(value: Json): Outcome {
  return value === null ? nullOutcome : value === true ? trueOutcome : value === false ? falseOutcome : { known: true, value };
}

export interface PairedOperations {
  operations: HistoryOperation[];
  /** How many `fail` operations were dropped. */
  failedCount: number;
}

/**
 * The operations of a well-formed history (see history/operation-pairs.ts), numbered in invoke
 * order, as the search takes them: ok ones with their result, info and open ones returning at
 * +infinity with an unknown outcome; fail ones dropped and counted.
 */
export function historyOperations(events: readonly HistoryEvent[]): PairedOperations {
  const operations: HistoryOperation[] = [];
  let failedCount = 0;
  for (const { invoke, invokeIndex, completion, completionIndex } of pairOperations(events)) {
    if (completion?.type === "fail") {
      failedCount += 1;
      continue;
    }
    const ok = completion?.type === "ok" ? completion : undefined;
    operations.push({
      id: operations.length,
      process: invoke.process,
      input: inputOf(invoke),
      outcome: ok === undefined ? unknownOutcome : knownOutcome(ok.value),
      call: invoke.time,
      ret: ok === undefined ? Infinity : ok.time,
      invokeIndex,
      completionIndex: ok === undefined ? Infinity : completionIndex!,
      type: ok === undefined ? "info" : "ok",
    });
  }
  return { operations, failedCount };
}

// The invoke event is the operation's input as it is (its extra fields, time, process and the
// like, are not the model's business): a million-operation history keeps no second copy.
function inputOf(event: ClientEvent): Operation {
  return event;
}
