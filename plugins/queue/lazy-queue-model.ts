// The queue specification for one history of unique values (see prepare-queue-history.ts), lazy
// about the order of concurrent enqueues. A linearization search otherwise fixes the order of two
// concurrent enqueues when it places them and learns whether it was right only when the values
// come out, maybe thousands of steps later; every dead end in between (a size that does not fit,
// say) is then explored once per order. Here the queue is a sequence of *groups*: enqueues placed
// one after another whose values may sit in any order, decided when they come out.
//
// Why that is exact. Say the search placed enqueues e1..ek (in that order) at positions p1 < ... <
// pk, with other operations in between. Any permutation of their values over those positions
// gives the same counts everywhere (sizes and empty dequeues see the same thing), and each
// dequeue in between took a value ahead of them, so it does too. It also respects real time when
// every ei may stand at p1 and at pk: no operation placed in [p1, pk] returned before ei was called,
// and none was called after ei returned. An enqueue joins the last group only when that holds for
// the group grown by it, judged over every operation placed since the group started (a superset
// of what matters, so it errs on the side of a new group). So every sequence this model accepts
// resolves, by taking each group's values in the order they come out, into a real-time order of
// the same operations that the plain model accepts; and every sequence the plain model accepts is
// accepted here, since the plain head is always in the first group. The key holds the groups as
// sets and what the last group's joining test reads (three numbers), so equal keys have equal
// futures.
//
// Values no ok dequeue returned (unobserved) share one token in the key: nothing left in the
// history can tell them apart. A dequeue of unknown outcome takes only an unobserved value: taking
// an observed one would leave its ok dequeue nothing to return (values are enqueued once), and
// taking nothing (an empty queue, or not taking effect) is the same as leaving it out.
import type { Json, PreparedModel, TimedOperation } from "../api.js";
import type { QueueItem } from "./queue-command.js";

export type QueueOperationKind = "enqueue" | "dequeue" | "size";

export interface LazyQueueState {
  /** Groups of enqueue operation indexes, head first, none empty; any order within a group. */
  readonly groups: readonly (readonly number[])[];
  readonly count: number;
  /** Over the operations placed since the last group started: the earliest return, the latest call. */
  readonly earliestReturn: number;
  readonly latestCall: number;
  /** The earliest return among the last group's members, ever. */
  readonly earliestMemberReturn: number;
  readonly key: string;
}

/** Never the JSON of an item (not valid JSON), so an unobserved value cannot alias an observed one. */
const unobservedToken = "_";

const EMPTY: LazyQueueState = {
  groups: [],
  count: 0,
  earliestReturn: Infinity,
  latestCall: -Infinity,
  earliestMemberReturn: Infinity,
  key: "",
};

export function createLazyQueueModel(
  operations: readonly TimedOperation[],
  kinds: readonly QueueOperationKind[],
  observed: (item: QueueItem) => boolean,
): PreparedModel<LazyQueueState> {
  const itemOf = (index: number): QueueItem => (operations[index] as TimedOperation).input.value as QueueItem;
  const tokens = operations.map((operation, index) =>
    kinds[index] === "enqueue" ? (observed(itemOf(index)) ? JSON.stringify(itemOf(index)) : unobservedToken) : "",
  );
  const isObserved = tokens.map((token) => token !== unobservedToken);

  /** The state after operation `index` took effect with groups `groups`. */
  const next = (state: LazyQueueState, index: number, groups: (readonly number[])[], count: number, joined: boolean): LazyQueueState => {
    const operation = operations[index] as TimedOperation;
    const lastGroupStarted = kinds[index] === "enqueue" && !joined;
    let earliestReturn = lastGroupStarted ? operation.ret : Math.min(state.earliestReturn, operation.ret);
    let latestCall = lastGroupStarted ? operation.call : Math.max(state.latestCall, operation.call);
    let earliestMemberReturn = lastGroupStarted ? operation.ret : joined ? Math.min(state.earliestMemberReturn, operation.ret) : state.earliestMemberReturn;
    // A group that can take no more members needs no window: a canonical one merges more states.
    if (groups.length === 0 || latestCall >= earliestMemberReturn) {
      earliestReturn = -Infinity;
      latestCall = Infinity;
      earliestMemberReturn = -Infinity;
    }
    return { groups, count, earliestReturn, latestCall, earliestMemberReturn, key: keyOf(groups, earliestReturn, latestCall, earliestMemberReturn) };
  };

  const keyOf = (groups: readonly (readonly number[])[], earliestReturn: number, latestCall: number, earliestMemberReturn: number): string => {
    const parts = groups.map((group) =>
      group.length === 1
        ? (tokens[group[0] as number] as string)
        : group
            .map((index) => tokens[index] as string)
            .sort()
            .join(" "),
    );
    return `${parts.join(",")}|${earliestReturn},${latestCall},${earliestMemberReturn}`;
  };

  /** Removes `member` from the head group. */
  const withoutHeadMember = (groups: readonly (readonly number[])[], member: number): (readonly number[])[] => {
    const head = (groups[0] as readonly number[]).filter((index) => index !== member);
    return head.length === 0 ? groups.slice(1) : [head, ...groups.slice(1)];
  };

  return {
    init: () => EMPTY,

    step(state: LazyQueueState, index: number): LazyQueueState | undefined {
      const operation = operations[index] as TimedOperation;
      const { outcome } = operation;
      switch (kinds[index]) {
        case "enqueue": {
          if (outcome.known && outcome.value !== null) {
            return undefined;
          }
          const last = state.groups[state.groups.length - 1];
          const joins =
            last !== undefined &&
            operation.call < state.earliestReturn &&
            Math.max(state.latestCall, operation.call) < Math.min(state.earliestMemberReturn, operation.ret);
          const groups = joins ? [...state.groups.slice(0, -1), [...last, index]] : [...state.groups, [index]];
          return next(state, index, groups, state.count + 1, joins);
        }
        case "dequeue": {
          const head = state.groups[0] ?? [];
          if (!outcome.known) {
            const unobserved = head.find((member) => !isObserved[member]);
            return unobserved === undefined ? undefined : next(state, index, withoutHeadMember(state.groups, unobserved), state.count - 1, false);
          }
          if (outcome.value === null) {
            return state.count === 0 ? next(state, index, [], 0, false) : undefined;
          }
          const taken = head.find((member) => isObserved[member] && sameItem(itemOf(member), outcome.value));
          return taken === undefined ? undefined : next(state, index, withoutHeadMember(state.groups, taken), state.count - 1, false);
        }
        case "size":
          return outcome.known && outcome.value !== state.count ? undefined : next(state, index, [...state.groups], state.count, false);
        default:
          return undefined;
      }
    },

    stateKey: (state) => state.key,

    describeState: (state) =>
      `[${state.groups
        .map((group) => {
          const items = group.map((member) => JSON.stringify(itemOf(member)));
          return group.length === 1 ? items[0] : `{${items.join(" ")}}`;
        })
        .join(",")}]`,
  };
}

function sameItem(item: QueueItem, value: Json): boolean {
  return item === value;
}
