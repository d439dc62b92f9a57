// What a size result says by counting alone. At an ok size s that returned v, the queue held
// v values: the enqueues that took effect before s minus the dequeues that removed a value before
// s. Some operations surely took effect before s (they returned before s was called), others may
// have (they were called before s returned). So, in every linearization:
//   - unknown-outcome dequeues removed at least E_sure - D_possible - v values before s, where
//     E_sure counts the enqueues surely in before s (ok ones that returned before s was called, and
//     unknown-outcome ones whose value an ok dequeue returned before that) and D_possible the ok
//     dequeues of a value called before s returned;
//   - unknown-outcome enqueues of values no ok dequeue returned (the only enqueues that may not
//     take effect) added at least v - E_possible + D_sure values before s, likewise.
// When that many is every such operation called before s returned, each of them precedes s; when
// it is more, no linearization exists.
import type { TimedOperation } from "../api.js";
import type { QueueOperationKind as Kind } from "./lazy-queue-model.js";
import type { QueueItem } from "./queue-command.js";

export interface SizeBoundFacts {
  operations: readonly TimedOperation[];
  kinds: readonly Kind[];
  /** The ok dequeue's return for each value an ok dequeue returned (the earliest, if several). */
  dequeueReturnOf: ReadonlyMap<QueueItem, number>;
}

export interface SizeBounds {
  /** [unknown-outcome operation, size]: the first took effect before the second. */
  precedences: [number, number][];
  /** A size no linearization can explain. */
  violation?: { operation: number; reason: string };
}

export function sizeBounds(facts: SizeBoundFacts): SizeBounds {
  const { operations, kinds, dequeueReturnOf } = facts;
  // Times at which each kind of operation surely (`sure`) or possibly (`possible`) took effect.
  const enqueueSure: number[] = [];
  const enqueuePossible: number[] = [];
  const dequeueSure: number[] = [];
  const dequeuePossible: number[] = [];
  const unknownDequeues: number[] = [];
  const unknownEnqueues: number[] = [];
  for (const [index, operation] of operations.entries()) {
    const { outcome } = operation;
    if (kinds[index] === "enqueue") {
      const dequeueReturn = dequeueReturnOf.get(operation.input.value as QueueItem);
      if (outcome.known) {
        enqueueSure.push(operation.ret);
        enqueuePossible.push(operation.call);
      } else if (dequeueReturn !== undefined) {
        enqueueSure.push(dequeueReturn);
        enqueuePossible.push(operation.call);
      } else {
        unknownEnqueues.push(index);
      }
    } else if (kinds[index] === "dequeue") {
      if (!outcome.known) {
        unknownDequeues.push(index);
      } else if (outcome.value !== null) {
        dequeueSure.push(operation.ret);
        dequeuePossible.push(operation.call);
      }
    }
  }
  for (const times of [enqueueSure, enqueuePossible, dequeueSure, dequeuePossible]) {
    times.sort((a, b) => a - b);
  }
  const callOf = (index: number): number => (operations[index] as TimedOperation).call;
  unknownDequeues.sort((a, b) => callOf(a) - callOf(b));
  unknownEnqueues.sort((a, b) => callOf(a) - callOf(b));
  const unknownCallTimes = (indexes: number[]): number[] => indexes.map(callOf);
  const unknownDequeueCalls = unknownCallTimes(unknownDequeues);
  const unknownEnqueueCalls = unknownCallTimes(unknownEnqueues);

  const precedences: [number, number][] = [];
  let violation: SizeBounds["violation"];
  for (const [index, size] of operations.entries()) {
    if (kinds[index] !== "size" || !size.outcome.known || typeof size.outcome.value !== "number") {
      continue;
    }
    const value = size.outcome.value;
    const enqueuedSurely = countBelow(enqueueSure, size.call);
    const enqueuedPossibly = countBelow(enqueuePossible, size.ret);
    const dequeuedSurely = countBelow(dequeueSure, size.call);
    const dequeuedPossibly = countBelow(dequeuePossible, size.ret);
    const forced = (needed: number, candidates: number[], calls: number[], what: string): void => {
      if (needed <= 0) {
        return;
      }
      const available = countBelow(calls, size.ret);
      if (needed > available) {
        violation ??= {
          operation: index,
          reason: `size ${value} needs ${needed} ${what} of unknown outcome to have taken effect, but only ${available} were called in time`,
        };
      } else if (needed === available) {
        for (const candidate of candidates.slice(0, available)) {
          precedences.push([candidate, index]);
        }
      }
    };
    forced(enqueuedSurely - dequeuedPossibly - value, unknownDequeues, unknownDequeueCalls, "dequeues");
    forced(value - enqueuedPossibly + dequeuedSurely, unknownEnqueues, unknownEnqueueCalls, "enqueues");
  }
  return violation === undefined ? { precedences } : { precedences, violation };
}

/** How many of the sorted `times` are below `limit`. */
function countBelow(times: readonly number[], limit: number): number {
  let low = 0;
  let high = times.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((times[middle] as number) < limit) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low;
}
