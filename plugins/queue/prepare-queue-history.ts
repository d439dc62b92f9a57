// What a FIFO queue's specification implies about one history whose enqueued values are unique
// (the harness writes unique values; any other history is searched as it is). It makes the
// linearizability search of a queue tractable: without it, the search has to guess the order of
// concurrent enqueues, and learns whether it guessed right only when the values come out, maybe
// thousands of operations later.
//
// Terms: a value is *observed* when some ok dequeue returned it; E(v) is the enqueue of v and
// D(v) the ok dequeue that returned it (when exactly one did); x < y is real-time order
// (x returned before y was called); a linearization is one that contains every ok operation.
//
// Precedences (every linearization containing the second has the first before it):
//   1. E(v) before D(v): a value comes out only after it went in.
//   2. E(a) before E(b) when D(a) < D(b): FIFO, so values come out in the order they went in.
//   3. E(a) before E(u), u unobserved, when no dequeue of unknown outcome was called before D(a)
//      returned: u enqueued first would have to leave before D(a), and only such a dequeue can
//      remove a value that no ok dequeue returned.
//   4. N before E(v), N a dequeue that returned null (empty), when N < D(v): v enqueued before N
//      would still be queued at N.
//   5. N before E(u), u unobserved, when no dequeue of unknown outcome was called before N
//      returned (as in 3).
// They are only stated for enqueue pairs and (N, enqueue) pairs that overlap in real time:
// other pairs are already ordered. Every unknown-outcome E(v) of an observed v precedes D(v),
// so the checker makes it required, with D(v)'s return as its deadline.
//
// Omitted (whenever a linearization exists, one exists without them):
//   - sizes of unknown outcome: they change nothing;
//   - unknown-outcome E(u) of an unobserved u when every ok size returned before E(u) was called:
//     take a linearization with E(u) and remove E(u) and the unknown-outcome dequeue that removed
//     u (if any; only such a dequeue can). Until that point each state loses u, which is never
//     the head when an ok dequeue or another dequeue takes one (u is not observed, and the other
//     dequeues did not remove u), and an empty queue stays empty; only a size could tell, and
//     every ok size is linearized before E(u) was even called.
//   - dequeues of unknown outcome when, after the above, every value enqueued is observed: in a
//     linearization such a dequeue cannot remove an observed value (its ok dequeue could never
//     return it, the value being enqueued once), so it took effect on an empty queue or not at
//     all; either way it changed nothing.
//
// Counting at ok sizes (size-bounds.ts) adds precedences from unknown-outcome enqueues or
// dequeues that every linearization needs before a size, and finds sizes that no count explains.
//
// The model for the history is lazy-queue-model.ts. Violations that need no search at all are
// found by queue-violations.ts.
import type { HistoryPreparation, TimedOperation } from "../api.js";
import { createLazyQueueModel, type QueueOperationKind as Kind } from "./lazy-queue-model.js";
import { isQueueItem, type QueueItem } from "./queue-command.js";
import { findQueueViolation } from "./queue-violations.js";
import { sizeBounds } from "./size-bounds.js";

export function prepareQueueHistory(operations: readonly TimedOperation[]): HistoryPreparation {
  const kinds: Kind[] = [];
  const enqueueOf = new Map<QueueItem, number>();
  const dequeuesOf = new Map<QueueItem, number[]>();
  for (const [index, operation] of operations.entries()) {
    const kind = wellFormedKind(operation);
    if (kind === null) {
      return {};
    }
    kinds.push(kind);
    const { input, outcome } = operation;
    if (kind === "enqueue") {
      const item = input.value as QueueItem;
      if (enqueueOf.has(item)) {
        return {};
      }
      enqueueOf.set(item, index);
    } else if (kind === "dequeue" && outcome.known && isQueueItem(outcome.value)) {
      const list = dequeuesOf.get(outcome.value) ?? [];
      list.push(index);
      dequeuesOf.set(outcome.value, list);
    }
  }
  const observed = (item: QueueItem): boolean => dequeuesOf.has(item);
  const isInfo = (index: number): boolean => !(operations[index] as TimedOperation).outcome.known;
  const itemOf = (index: number): QueueItem => (operations[index] as TimedOperation).input.value as QueueItem;

  let lastOkSizeReturn = -Infinity;
  let firstInfoDequeueCall = Infinity;
  for (const [index, operation] of operations.entries()) {
    if (kinds[index] === "size" && operation.outcome.known) {
      lastOkSizeReturn = Math.max(lastOkSizeReturn, operation.ret);
    } else if (kinds[index] === "dequeue" && !operation.outcome.known) {
      firstInfoDequeueCall = Math.min(firstInfoDequeueCall, operation.call);
    }
  }

  const violation = findQueueViolation({
    operations,
    enqueueOf,
    dequeuesOf,
    emptyDequeues: [...operations.keys()].filter((index) => isEmptyResult(kinds[index], operations[index] as TimedOperation)),
    firstUnknownDequeueCall: firstInfoDequeueCall,
  });
  if (violation !== undefined) {
    return { violation };
  }
  const dequeueReturnOf = new Map<QueueItem, number>();
  for (const [item, dequeues] of dequeuesOf) {
    dequeueReturnOf.set(item, Math.min(...dequeues.map((index) => (operations[index] as TimedOperation).ret)));
  }
  const bounds = sizeBounds({ operations, kinds, dequeueReturnOf });
  if (bounds.violation !== undefined) {
    return { violation: bounds.violation };
  }

  const omit: number[] = [];
  const omitted = new Uint8Array(operations.length);
  const leaveOut = (index: number): void => {
    omit.push(index);
    omitted[index] = 1;
  };
  for (const [index, operation] of operations.entries()) {
    const kind = kinds[index];
    if (!isInfo(index)) {
      continue;
    }
    if (kind === "size" || (kind === "enqueue" && !observed(itemOf(index)) && lastOkSizeReturn < operation.call)) {
      leaveOut(index);
    }
  }
  const unobservedKept = [...enqueueOf].some(([item, index]) => omitted[index] === 0 && !observed(item));
  if (!unobservedKept) {
    operations.forEach((_, index) => {
      if (kinds[index] === "dequeue" && isInfo(index)) {
        leaveOut(index);
      }
    });
  }

  // Counting forces these whenever a linearization exists; an omitted one has no linearization
  // that needs it, so its precedence is dropped (the search then finds none).
  const precedences: [number, number][] = bounds.precedences.filter(([before]) => omitted[before] === 0);
  for (const [item, dequeues] of dequeuesOf) {
    const enqueue = enqueueOf.get(item);
    if (enqueue !== undefined) {
      for (const dequeue of dequeues) {
        precedences.push([enqueue, dequeue]);
      }
    }
  }
  /** D(v) when exactly one ok dequeue returned v. */
  const onlyDequeueOf = (item: QueueItem): TimedOperation | undefined => {
    const dequeues = dequeuesOf.get(item);
    return dequeues?.length === 1 ? operations[dequeues[0] as number] : undefined;
  };
  const isEmptyDequeue = (index: number): boolean => isEmptyResult(kinds[index], operations[index] as TimedOperation);
  const noUnknownDequeueCalledBefore = (position: number): boolean => firstInfoDequeueCall > position;
  // Intervals whose overlaps the rules look at: kept enqueues (an observed one ends at its
  // deadline, D(v)'s return; an unobserved one of unknown outcome takes part in no rule) and
  // empty dequeues.
  const intervals: { index: number; call: number; end: number }[] = [];
  for (const [index, operation] of operations.entries()) {
    if (omitted[index] === 1) {
      continue;
    }
    if (kinds[index] === "enqueue") {
      const dequeue = onlyDequeueOf(itemOf(index));
      if (dequeue === undefined && (isInfo(index) || observed(itemOf(index)))) {
        continue;
      }
      const end = dequeue !== undefined && dequeue.ret > operation.call ? Math.min(operation.ret, dequeue.ret) : operation.ret;
      intervals.push({ index, call: operation.call, end });
    } else if (isEmptyDequeue(index)) {
      intervals.push({ index, call: operation.call, end: operation.ret });
    }
  }
  const ruleFor = (first: number, second: number): void => {
    const firstEmpty = isEmptyDequeue(first);
    const secondEmpty = isEmptyDequeue(second);
    if (firstEmpty && secondEmpty) {
      return;
    }
    if (firstEmpty || secondEmpty) {
      const empty = operations[firstEmpty ? first : second] as TimedOperation;
      const enqueue = firstEmpty ? second : first;
      const dequeue = onlyDequeueOf(itemOf(enqueue));
      const mustFollow = dequeue !== undefined ? empty.ret < dequeue.call : !isInfo(enqueue) && noUnknownDequeueCalledBefore(empty.ret);
      if (mustFollow) {
        precedences.push([firstEmpty ? first : second, enqueue]);
      }
      return;
    }
    const firstDequeue = onlyDequeueOf(itemOf(first));
    const secondDequeue = onlyDequeueOf(itemOf(second));
    if (firstDequeue !== undefined && secondDequeue !== undefined) {
      if (firstDequeue.ret < secondDequeue.call) {
        precedences.push([first, second]);
      } else if (secondDequeue.ret < firstDequeue.call) {
        precedences.push([second, first]);
      }
    } else if (firstDequeue !== undefined && secondDequeue === undefined && !isInfo(second)) {
      if (noUnknownDequeueCalledBefore(firstDequeue.ret)) {
        precedences.push([first, second]);
      }
    } else if (secondDequeue !== undefined && firstDequeue === undefined && !isInfo(first)) {
      if (noUnknownDequeueCalledBefore(secondDequeue.ret)) {
        precedences.push([second, first]);
      }
    }
  };
  forEachOverlap(intervals, ruleFor);

  // Try first the enqueue whose value is dequeued first: FIFO, so it most likely went in first.
  const priorities = new Map<number, number>();
  for (const [item, index] of enqueueOf) {
    const dequeue = onlyDequeueOf(item);
    if (dequeue !== undefined) {
      priorities.set(index, dequeue.call);
    }
  }

  return {
    model: createLazyQueueModel(operations, kinds, observed),
    omit,
    precedences,
    priorities,
  };
}

function isEmptyResult(kind: Kind | undefined, operation: TimedOperation): boolean {
  return kind === "dequeue" && operation.outcome.known && operation.outcome.value === null;
}

function wellFormedKind(operation: TimedOperation): Kind | null {
  const { input } = operation;
  if (input.key !== undefined && input.key !== null) {
    return null;
  }
  switch (input.f) {
    case "enqueue":
      return isQueueItem(input.value) ? "enqueue" : null;
    case "dequeue":
    case "size":
      return input.value === null || input.value === undefined ? input.f : null;
    default:
      return null;
  }
}

/**
 * Calls `visit(a, b)` once for each pair of intervals that overlap in real time (neither ends
 * before the other starts), a called first: a sweep in call order over the intervals still open.
 */
function forEachOverlap(intervals: { index: number; call: number; end: number }[], visit: (first: number, second: number) => void): void {
  intervals.sort((a, b) => a.call - b.call);
  let open: { index: number; call: number; end: number }[] = [];
  for (const interval of intervals) {
    open = open.filter((earlier) => earlier.end > interval.call);
    for (const earlier of open) {
      visit(earlier.index, interval.index);
    }
    open.push(interval);
  }
}
