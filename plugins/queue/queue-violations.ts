// Violations of a FIFO queue that a history of unique values shows without any search (the bad
// patterns of Henzinger, Sezgin and Vafeiadis, CONCUR 2013, restricted to what stays certain with
// operations of unknown outcome). A search has to exhaust every order before it can call such a
// history illegal, which can take far too long; each pattern here rules out every linearization:
//   - a value that two ok dequeues returned (it was enqueued at most once);
//   - a value that an ok dequeue returned although no enqueue of it was called before it returned;
//   - D(b) returned before D(a) was called although E(a) returned before E(b) was called: FIFO;
//   - an empty dequeue N while v was surely queued: E(v) returned before N was called and D(v)
//     was called after N returned;
//   - an acknowledged value u that no ok dequeue returned, stuck ahead of a later one: E(u)
//     returned before E(b) was called (or before an empty dequeue N was called), and no dequeue of
//     unknown outcome, the only thing that could have removed u, was called before D(b) (or N)
//     returned.
// Of all violations found, the one whose dequeue was called first is reported.
import type { TimedOperation } from "../api.js";
import type { QueueItem } from "./queue-command.js";

export interface QueueFacts {
  operations: readonly TimedOperation[];
  /** The enqueue of each value (each value is enqueued at most once). */
  enqueueOf: ReadonlyMap<QueueItem, number>;
  /** The ok dequeues that returned each value. */
  dequeuesOf: ReadonlyMap<QueueItem, readonly number[]>;
  /** Ok dequeues that returned null. */
  emptyDequeues: readonly number[];
  /** The earliest call of a dequeue of unknown outcome (Infinity when none). */
  firstUnknownDequeueCall: number;
}

export interface QueueViolation {
  operation: number;
  reason: string;
}

export function findQueueViolation(facts: QueueFacts): QueueViolation | undefined {
  const { operations, enqueueOf, dequeuesOf, emptyDequeues, firstUnknownDequeueCall } = facts;
  const at = (index: number): TimedOperation => operations[index] as TimedOperation;
  const show = (item: QueueItem): string => JSON.stringify(item);
  let found: QueueViolation | undefined;
  const report = (operation: number, reason: string): void => {
    if (found === undefined || at(operation).call < at(found.operation).call) {
      found = { operation, reason };
    }
  };

  /** Observed values with their enqueue and their only dequeue. */
  const pairs: { item: QueueItem; enqueue: TimedOperation; dequeue: TimedOperation; dequeueIndex: number }[] = [];
  for (const [item, dequeues] of dequeuesOf) {
    const [first, second] = [...dequeues].sort((a, b) => at(a).call - at(b).call);
    if (second !== undefined) {
      report(second, `value ${show(item)} was dequeued twice`);
      continue;
    }
    const enqueue = enqueueOf.get(item);
    const dequeue = at(first as number);
    if (enqueue === undefined || at(enqueue).call > dequeue.ret) {
      report(first as number, `value ${show(item)} was dequeued but no enqueue of it had been called`);
      continue;
    }
    pairs.push({ item, enqueue: at(enqueue), dequeue, dequeueIndex: first as number });
  }

  // FIFO: for each b, an a enqueued surely before b but dequeued surely after b. Visiting b by
  // decreasing D(b).ret, the a's with D(a).call > D(b).ret only grow; keep the earliest E(a).ret.
  const byDequeueCall = [...pairs].sort((a, b) => b.dequeue.call - a.dequeue.call);
  const byDequeueReturn = [...pairs].sort((a, b) => b.dequeue.ret - a.dequeue.ret);
  let added = 0;
  let earliest: (typeof pairs)[number] | undefined;
  for (const b of byDequeueReturn) {
    while (added < byDequeueCall.length && (byDequeueCall[added] as (typeof pairs)[number]).dequeue.call > b.dequeue.ret) {
      const a = byDequeueCall[added] as (typeof pairs)[number];
      if (earliest === undefined || a.enqueue.ret < earliest.enqueue.ret) {
        earliest = a;
      }
      added += 1;
    }
    if (earliest !== undefined && earliest.enqueue.ret < b.enqueue.call) {
      report(b.dequeueIndex, `value ${show(b.item)} was dequeued before ${show(earliest.item)}, though ${show(earliest.item)} was enqueued first`);
    }
  }

  // Acknowledged values that no ok dequeue returned: the one acknowledged first matters most.
  let stuck: { item: QueueItem; ret: number } | undefined;
  for (const [item, index] of enqueueOf) {
    const enqueue = at(index);
    if (!dequeuesOf.has(item) && enqueue.outcome.known && (stuck === undefined || enqueue.ret < stuck.ret)) {
      stuck = { item, ret: enqueue.ret };
    }
  }
  const stuckBefore = (call: number, ret: number): boolean => stuck !== undefined && stuck.ret < call && firstUnknownDequeueCall > ret;
  for (const b of pairs) {
    if (stuckBefore(b.enqueue.call, b.dequeue.ret)) {
      report(
        b.dequeueIndex,
        `value ${show((stuck as { item: QueueItem }).item)} was acknowledged and never dequeued, but ${show(b.item)}, enqueued after it, was`,
      );
    }
  }

  // Empty dequeues while a value was surely queued: visiting N by call, add the values enqueued
  // before it and keep the one dequeued last.
  const byEnqueueReturn = [...pairs].sort((a, b) => a.enqueue.ret - b.enqueue.ret);
  const emptyByCall = [...emptyDequeues].sort((a, b) => at(a).call - at(b).call);
  let enqueued = 0;
  let latest: (typeof pairs)[number] | undefined;
  for (const index of emptyByCall) {
    const empty = at(index);
    while (enqueued < byEnqueueReturn.length && (byEnqueueReturn[enqueued] as (typeof pairs)[number]).enqueue.ret < empty.call) {
      const value = byEnqueueReturn[enqueued] as (typeof pairs)[number];
      if (latest === undefined || value.dequeue.call > latest.dequeue.call) {
        latest = value;
      }
      enqueued += 1;
    }
    if (latest !== undefined && latest.dequeue.call > empty.ret) {
      report(index, `the queue was empty while value ${show(latest.item)} was surely in it`);
    } else if (stuckBefore(empty.call, empty.ret)) {
      report(index, `the queue was empty though value ${show((stuck as { item: QueueItem }).item)} was acknowledged and never dequeued`);
    }
  }
  return found;
}
