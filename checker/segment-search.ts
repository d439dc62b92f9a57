// Segmented search of one partition (issue 16: search only the smallest sub-histories that need
// it). A quiescent point is a place in the invoke order where every operation called before it
// has returned (so no info or open operation was called before it: they never return). Every
// operation before it precedes every operation after it in real time, so the partition's
// linearizations are exactly the concatenations of one linearization per segment, and the
// partition is linearizable iff some chain of segment end states reaches the last segment's end.
//
// Each segment is searched from the SET of states the previous one can end in (Wing & Gong with
// a (placed operations, state) memo shared across start states: the end states reachable from a
// memo entry do not depend on how it was reached). Exact, but only worth it while the sets stay
// small: past `endStatesMax` end states or `nodesMax` search nodes it gives up (null) and the
// caller searches the whole partition as before.
import type { Model } from "../plugins/api.js";
import type { HistoryOperation } from "./operations.js";
import type { ReadOnlyPredicate } from "./partition-search.js";
import { maxOf } from "../lib/extremes.js";

export type SegmentedOutcome<S> =
  | { verdict: "ok"; order: HistoryOperation[]; nodes: number }
  /** `prefix`: a linearizable prefix, longest found; `blocked` could not follow it from `stateBefore`. */
  | { verdict: "illegal"; prefix: HistoryOperation[]; blocked: HistoryOperation; stateBefore: S; nodes: number };

export interface SegmentLimits {
  /** Give up once a segment can end in more states than this. */
  endStatesMax: number;
  /** Give up once this many search nodes (operations stepped) were spent. */
  nodesMax: number;
  /** Give up on a segment longer than this (each node's memo key costs its length). */
  segmentOperationsMax: number;
  /** Give up when one segment holds more than this share of the operations (little to gain). */
  segmentShareMax: number;
}

/** Splits operations (in invoke order) at quiescent points. */
export function quiescentSegments(operations: readonly HistoryOperation[]): HistoryOperation[][] {
  const segments: HistoryOperation[][] = [];
  let current: HistoryOperation[] = [];
  let lastCompletion = -Infinity;
  for (const operation of operations) {
    if (current.length > 0 && lastCompletion < operation.invokeIndex) {
      segments.push(current);
      current = [];
    }
    current.push(operation);
    lastCompletion = Math.max(lastCompletion, operation.completionIndex);
  }
  if (current.length > 0) {
    segments.push(current);
  }
  return segments;
}

/** One way to end a segment in a state: the segment's order and the state it started from. */
interface Ending<S> {
  state: S;
  order: HistoryOperation[];
  startKey: string | null;
}

class GaveUp extends Error {}

/** The verdict from segments, or null when the partition has no cut or the limits were reached. */
export function searchSegments<S>(
  model: Model<S>,
  operations: readonly HistoryOperation[],
  limits: SegmentLimits,
  readOnly: ReadOnlyPredicate = () => false,
): SegmentedOutcome<S> | null {
  const segments = quiescentSegments(operations);
  // It pays only when no segment is most of the partition (an info op early on leaves no cut
  // after it) and each is short enough to explore.
  const longest = maxOf(segments.map((segment) => segment.length));
  if (segments.length < 2 || longest > limits.segmentOperationsMax || longest > operations.length * limits.segmentShareMax) {
    return null;
  }
  const initial = model.init();
  // endings[k]: the states segment k can end in, by state key.
  const endings: Map<string, Ending<S>>[] = [];
  let starts = new Map<string, Ending<S>>([[model.stateKey(initial), { state: initial, order: [], startKey: null }]]);
  const budget = { nodes: 0 };
  try {
    for (const [index, segment] of segments.entries()) {
      const last = index === segments.length - 1;
      const explored = exploreSegment(model, segment, starts, !last, limits, budget, readOnly);
      if (explored.ends.size === 0) {
        // No linearization of this segment from any state the earlier ones can end in.
        const deepest = explored.deepest;
        const prefix = [...pathTo(endings, index - 1, deepest.startKey), ...deepest.order];
        return { verdict: "illegal", prefix, blocked: deepest.blocked, stateBefore: deepest.state, nodes: budget.nodes };
      }
      endings.push(explored.ends);
      starts = explored.ends;
    }
  } catch (error) {
    if (error instanceof GaveUp) {
      return null;
    }
    throw error;
  }
  const lastKey = endings[endings.length - 1]!.keys().next().value as string;
  return { verdict: "ok", order: pathTo(endings, endings.length - 1, lastKey), nodes: budget.nodes };
}

/** The operations of segments 0..segment that end in `key`, in linearization order. */
function pathTo<S>(endings: readonly Map<string, Ending<S>>[], segment: number, key: string | null): HistoryOperation[] {
  const parts: HistoryOperation[][] = [];
  for (let index = segment; index >= 0 && key !== null; index -= 1) {
    const ending = endings[index]!.get(key)!;
    parts.push(ending.order);
    key = ending.startKey;
  }
  return parts.reverse().flat();
}

interface Explored<S> {
  ends: Map<string, Ending<S>>;
  /** The dead end with most ok operations placed, for the report when `ends` is empty. */
  deepest: { order: HistoryOperation[]; state: S; blocked: HistoryOperation; startKey: string | null; okPlaced: number };
}

/**
 * Every state `segment` can end in from any of `starts` (all of them when `allEnds`, else the
 * first found: the last segment's end matters only by existing). A segment ends once its ok
 * operations are placed; info operations (only in the last segment) may be left out.
 */
function exploreSegment<S>(
  model: Model<S>,
  segment: readonly HistoryOperation[],
  starts: ReadonlyMap<string, Ending<S>>,
  allEnds: boolean,
  limits: SegmentLimits,
  budget: { nodes: number },
  readOnly: ReadOnlyPredicate,
): Explored<S> {
  const count = segment.length;
  const okCount = segment.filter((operation) => operation.type === "ok").length;
  const placed = new Uint8Array(count);
  const path: HistoryOperation[] = [];
  // (placed set, state) pairs already explored: they lead to the same ends whatever the start.
  const memo = new Set<string>();
  const ends = new Map<string, Ending<S>>();
  let deepest: Explored<S>["deepest"] | null = null;
  let startKey: string | null = null;

  const visit = (state: S, stateKey: string, okPlaced: number): boolean => {
    if (okPlaced === okCount) {
      if (!ends.has(stateKey)) {
        ends.set(stateKey, { state, order: [...path], startKey });
        if (ends.size > limits.endStatesMax) {
          throw new GaveUp();
        }
      }
      return !allEnds;
    }
    const memoKey = `${String.fromCharCode(...placed)}\u0001${stateKey}`;
    if (memo.has(memoKey)) {
      return false;
    }
    memo.add(memoKey);
    // Real time: an operation can go next unless an unplaced one returned before its call.
    let firstReturn = Infinity;
    let blocked = -1;
    for (let index = 0; index < count; index += 1) {
      if (placed[index] === 0 && segment[index]!.completionIndex < firstReturn) {
        firstReturn = segment[index]!.completionIndex;
        blocked = index;
      }
    }
    for (let index = 0; index < count; index += 1) {
      const operation = segment[index]!;
      if (placed[index] === 1 || operation.invokeIndex > firstReturn) {
        continue;
      }
      budget.nodes += 1;
      if (budget.nodes > limits.nodesMax) {
        throw new GaveUp();
      }
      const next = model.step(state, operation.input, operation.outcome);
      if (next === undefined) {
        continue;
      }
      placed[index] = 1;
      path.push(operation);
      const found = visit(next, model.stateKey(next), okPlaced + (operation.type === "ok" ? 1 : 0));
      path.pop();
      placed[index] = 0;
      // A legal read-only op could move to the front of any order of the rest, with the same
      // states: the others need not be tried here (as in partition-search.ts).
      if (found || readOnly(operation.input)) {
        return found;
      }
    }
    if (deepest === null || okPlaced > deepest.okPlaced) {
      // The op that returns first among the unplaced ones had to be placed here and could not.
      deepest = { order: [...path], state, blocked: segment[blocked]!, startKey, okPlaced };
    }
    return false;
  };

  for (const [key, start] of starts) {
    startKey = key;
    if (visit(start.state, key, 0)) {
      break;
    }
  }
  // A segment with an ok operation always has a dead end when it has no end.
  return { ends, deepest: deepest ?? { order: [], state: model.init(), blocked: segment[0]!, startKey: null, okPlaced: 0 } };
}
