// Decides a counter history of positive adds and reads without the generic search, which on a
// real history with a few dozen unknown-outcome adds explores subsets of them that reach the same
// totals (a 4,800-operation safe run with 48 info adds filled the 20M-entry memo and ended unknown;
// generated histories of 100,000 operations timed out at 60 s even with 1% of them info).
//
// With every delta positive the total only grows, so a linearization is: the adds of epoch 0,
// the reads of the smallest value read (boundary 1), the adds of epoch 1, the reads of the next
// value (boundary 2), and so on, the adds of the last epoch after the last reads. Inside an epoch
// or a boundary, call order meets real time. Real time then asks, for operations x < y (x returned
// before y was called): a read before a read, value(x) <= value(y); an add before a read of
// boundary j, an epoch below j; a read of boundary j before an add, an epoch at least j; an add
// before an add, an epoch no later. And the adds of epochs below j must total the value of
// boundary j. Each add therefore has an epoch window [lo, hi] from the reads, and the question is
// a sweep over the boundaries choosing which adds complete each total, closed under add-before-add.
//
// The sweep is a depth-first search over boundaries, remembering the states that failed. A state
// is the boundary and the adds that could have been placed by then but were not: which ones
// decide everything later. Unknown-outcome adds of one delta are interchangeable once available
// except for what must precede them, which grows with the call, so the sweep always takes the
// earliest-called ones of a delta (never worse), and their count is the only choice. It gives
// up (the generic search takes the history as it is) past `expansionsMax` choices, or for any
// other history (a delta of zero or below, a key, a malformed operation, a total that could
// overflow). Every violation it reports is one of the history, since the sweep is exhaustive;
// the checker verifies every linearization by stepping the model, and checker/differential.test.ts
// compares both against brute force.
import type { HistoryPreparation, TimedOperation } from "../api.js";

type Violation = NonNullable<HistoryPreparation["violation"]>;

/**
 * Choices the sweep may try before leaving the history to the generic search: about 10 s here
 * (the hook has no deadline). The hardest real history seen needed about 300,000.
 */
export const COUNTER_SWEEP_EXPANSIONS_MAX = 1_000_000;

interface Add {
  index: number;
  delta: number;
  call: number;
  ret: number;
  known: boolean;
  /** The epoch window that the reads allow. */
  lo: number;
  hi: number;
}

interface Read {
  index: number;
  value: number;
  call: number;
  ret: number;
  boundary: number;
}

export function prepareCounterHistory(operations: readonly TimedOperation[], expansionsMax = COUNTER_SWEEP_EXPANSIONS_MAX): HistoryPreparation {
  const classified = classify(operations);
  if (classified === null) {
    return {};
  }
  const { adds, reads } = classified;
  const values = [...new Set(reads.map((read) => read.value))].sort((a, b) => a - b);
  const boundaryOf = new Map(values.map((value, position) => [value, position + 1]));
  for (const read of reads) {
    read.boundary = boundaryOf.get(read.value) as number;
  }
  const lastBoundary = values.length;
  const orders = ordersOf(adds, reads);
  const violation = outOfBounds(orders) ?? readsOutOfOrder(orders) ?? windowViolation(orders, reads, lastBoundary);
  if (violation !== undefined) {
    return { violation };
  }
  const sweep = new Sweep(adds, values, expansionsMax);
  const outcome = sweep.run();
  if (outcome === "gave up") {
    return {};
  }
  if (outcome === "no linearization") {
    return { violation: unreachableTotal(adds, reads, sweep.deepestBoundaryMissed, values) };
  }
  return { linearization: linearizationOf(adds, reads, outcome, lastBoundary) };
}

/** The adds and the reads with a known result, or null when the sweep does not apply. */
function classify(operations: readonly TimedOperation[]): { adds: Add[]; reads: Read[] } | null {
  const adds: Add[] = [];
  const reads: Read[] = [];
  let total = 0;
  for (const [index, { input, outcome, call, ret }] of operations.entries()) {
    if (input.key !== undefined && input.key !== null) {
      return null;
    }
    if (input.f === "add") {
      const delta = input.value;
      if (typeof delta !== "number" || !Number.isSafeInteger(delta) || delta <= 0 || (outcome.known && outcome.value !== null)) {
        return null;
      }
      total += delta;
      adds.push({ index, delta, call, ret, known: outcome.known, lo: 0, hi: 0 });
    } else if (input.f === "read" && (input.value === null || input.value === undefined)) {
      if (!outcome.known) {
        continue; // reads nothing we know and changes nothing: left out
      }
      const value = outcome.value;
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
        return null;
      }
      reads.push({ index, value, call, ret, boundary: 0 });
    } else {
      return null;
    }
  }
  return Number.isSafeInteger(total) ? { adds, reads } : null;
}

/** The adds and reads sorted once, by call and by return (an unknown outcome returns at Infinity). */
interface Orders {
  addsByCall: readonly Add[];
  addsByReturn: readonly Add[];
  readsByCall: readonly Read[];
  readsByReturn: readonly Read[];
}

function ordersOf(adds: readonly Add[], reads: readonly Read[]): Orders {
  return {
    addsByCall: [...adds].sort((a, b) => a.call - b.call),
    addsByReturn: [...adds].sort((a, b) => a.ret - b.ret),
    readsByCall: [...reads].sort((a, b) => a.call - b.call),
    readsByReturn: [...reads].sort((a, b) => a.ret - b.ret),
  };
}

/**
 * A read outside Jepsen's counter bounds: below the adds that completed before it was called, or
 * above every add called before it returned.
 */
function outOfBounds({ addsByCall, addsByReturn, readsByCall, readsByReturn }: Orders): Violation | undefined {
  let completed = 0;
  let nextCompletion = 0;
  for (const read of readsByCall) {
    // Unknown-outcome adds return at Infinity: never counted as completed.
    for (; nextCompletion < addsByReturn.length && (addsByReturn[nextCompletion] as Add).ret < read.call; nextCompletion += 1) {
      completed += (addsByReturn[nextCompletion] as Add).delta;
    }
    if (read.value < completed) {
      return { operation: read.index, reason: `it read ${read.value}, but the adds that completed before it was called total ${completed}` };
    }
  }
  let called = 0;
  let nextCall = 0;
  for (const read of readsByReturn) {
    for (; nextCall < addsByCall.length && (addsByCall[nextCall] as Add).call < read.ret; nextCall += 1) {
      called += (addsByCall[nextCall] as Add).delta;
    }
    if (read.value > called) {
      return { operation: read.index, reason: `it read ${read.value}, but every add called before it returned totals only ${called}` };
    }
  }
  return undefined;
}

/** A read that returned a lower total than a read that completed before it was called. */
function readsOutOfOrder({ readsByCall: byCall, readsByReturn: byReturn }: Orders): Violation | undefined {
  let highest: Read | undefined;
  let next = 0;
  for (const read of byCall) {
    for (; next < byReturn.length && (byReturn[next] as Read).ret < read.call; next += 1) {
      const done = byReturn[next] as Read;
      if (highest === undefined || done.value > highest.value) {
        highest = done;
      }
    }
    if (highest !== undefined && highest.value > read.value) {
      return {
        operation: read.index,
        reason: `it read ${read.value}, but a read that completed before it was called had read ${highest.value}, and the total never decreases (every add here is positive)`,
      };
    }
  }
  return undefined;
}

/**
 * Sets each add's epoch window from the reads: at least the boundary of every read completed
 * before its call, below the boundary of every read called after its return.
 */
function windowViolation(orders: Orders, reads: readonly Read[], lastBoundary: number): Violation | undefined {
  const { addsByCall, addsByReturn, readsByCall, readsByReturn: byReturn } = orders;
  let next = 0;
  let before: Read | undefined;
  for (const add of addsByCall) {
    for (; next < byReturn.length && (byReturn[next] as Read).ret < add.call; next += 1) {
      const done = byReturn[next] as Read;
      if (before === undefined || done.boundary > before.boundary) {
        before = done;
      }
    }
    add.lo = before?.boundary ?? 0;
  }
  // Latest return first, against reads latest call first.
  next = readsByCall.length - 1;
  let after: Read | undefined;
  for (let position = addsByReturn.length - 1; position >= 0; position -= 1) {
    const add = addsByReturn[position] as Add;
    for (; next >= 0 && (readsByCall[next] as Read).call > add.ret; next -= 1) {
      const later = readsByCall[next] as Read;
      if (after === undefined || later.boundary < after.boundary) {
        after = later;
      }
    }
    add.hi = after === undefined ? lastBoundary : after.boundary - 1;
    if (add.lo > add.hi) {
      const first = reads.find((read) => read.ret < add.call && read.boundary === add.lo) as Read;
      const second = after as Read;
      return {
        operation: add.index,
        reason: `add ${add.delta} came after a read of ${first.value} had completed and completed before a read of ${second.value} was called, so the total would have to grow by ${add.delta} between them`,
      };
    }
  }
  return undefined;
}

/** Adds placed in each epoch below the last boundary, by position in `adds`. */
type Placement = number[][];

class Sweep {
  expansions = 0;
  /** The lowest boundary that no explored state reached, for the violation. */
  deepestBoundaryMissed = 1;
  readonly #adds: readonly Add[];
  readonly #values: readonly number[];
  readonly #expansionsMax: number;
  /** Adds by the epoch from which they may be placed. */
  readonly #availableFrom: number[][];
  readonly #placed: Uint8Array;
  readonly #failed = new Set<string>();

  constructor(adds: readonly Add[], values: readonly number[], expansionsMax: number) {
    this.#adds = adds;
    this.#values = values;
    this.#expansionsMax = expansionsMax;
    this.#availableFrom = Array.from({ length: values.length + 1 }, () => []);
    const byCall = adds.map((_, position) => position).sort((a, b) => (adds[a] as Add).call - (adds[b] as Add).call);
    for (const position of byCall) {
      (this.#availableFrom[(adds[position] as Add).lo] as number[]).push(position);
    }
    this.#placed = new Uint8Array(adds.length);
  }

  run(): Placement | "no linearization" | "gave up" {
    const lastBoundary = this.#values.length;
    if (lastBoundary === 0) {
      return [];
    }
    // Frame f chooses the adds of epoch f, which take the total from boundary f to boundary f + 1.
    const pools: number[][] = [];
    const keys: string[] = [];
    const choices: Generator<number[]>[] = [];
    const chosen: number[][] = [];
    const enter = (leftOver: readonly number[], key: string): void => {
      const epoch = choices.length;
      const pool = [...leftOver, ...(this.#availableFrom[epoch] as number[])];
      const target = (this.#values[epoch] as number) - (epoch > 0 ? (this.#values[epoch - 1] as number) : 0);
      pools.push(pool);
      keys.push(key);
      choices.push(this.#choices(pool, epoch, target));
    };
    enter([], "");
    while (choices.length > 0) {
      const epoch = choices.length - 1;
      if (chosen.length > epoch) {
        for (const position of chosen.pop() as number[]) {
          this.#placed[position] = 0;
        }
      }
      const next = (choices[epoch] as Generator<number[]>).next();
      if (next.done === true) {
        // No choice here reaches the last boundary: neither does this state, however reached.
        this.#failed.add(keys.pop() as string);
        choices.pop();
        pools.pop();
        this.deepestBoundaryMissed = Math.max(this.deepestBoundaryMissed, epoch + 1);
        continue;
      }
      this.expansions += 1;
      if (this.expansions > this.#expansionsMax) {
        return "gave up";
      }
      for (const position of next.value) {
        this.#placed[position] = 1;
      }
      chosen.push(next.value);
      if (epoch + 1 === lastBoundary) {
        return chosen;
      }
      // The state at boundary epoch + 1: the adds available by now and not placed decide the rest.
      const leftOver = (pools[epoch] as number[]).filter((position) => this.#placed[position] === 0);
      const key = `${epoch + 1}:${[...leftOver].sort((a, b) => a - b).join(",")}`;
      if (!this.#failed.has(key)) {
        enter(leftOver, key);
      }
    }
    return "no linearization";
  }

  /**
   * Every set of adds from `pool` for `epoch` that totals `target`: all that must precede the
   * next boundary (hi == epoch), every add whose predecessors in the pool are in the set too,
   * and of the unknown-outcome adds of one delta only the earliest-called. Known adds are tried
   * in, then out; unknown ones fewest first.
   */
  *#choices(pool: readonly number[], epoch: number, target: number): Generator<number[]> {
    const adds = this.#adds;
    const forced: number[] = [];
    const optionalKnown: number[] = [];
    const unknownByDelta = new Map<number, number[]>();
    let forcedTotal = 0;
    for (const position of pool) {
      const add = adds[position] as Add;
      if (add.hi <= epoch) {
        forced.push(position);
        forcedTotal += add.delta;
      } else if (add.known) {
        optionalKnown.push(position);
      } else {
        let group = unknownByDelta.get(add.delta);
        if (group === undefined) {
          group = [];
          unknownByDelta.set(add.delta, group);
        }
        group.push(position);
      }
    }
    if (forcedTotal > target) {
      return;
    }
    const byCall = (a: number, b: number): number => (adds[a] as Add).call - (adds[b] as Add).call;
    // Earliest deadline first (then call order, which keeps every predecessor before its
    // successor: it returned before the successor was called, and its deadline is no later), and
    // unknown-outcome adds of larger deltas first: measured on real histories, the sweep then
    // finds a linearization in 0.1-2 s where call order ran out of its budget on one of three.
    optionalKnown.sort((a, b) => (adds[a] as Add).hi - (adds[b] as Add).hi || byCall(a, b));
    const groups = [...unknownByDelta.values()].map((group) => group.sort(byCall));
    groups.sort((a, b) => (adds[b[0] as number] as Add).delta - (adds[a[0] as number] as Add).delta);
    const inSet = new Set(forced);
    // A forced add's predecessors are forced too (their hi is no higher), so only optional ones
    // need the check: every add of the pool that returned before it was called is in the set.
    const predecessorsIn = (position: number): boolean => {
      const call = (adds[position] as Add).call;
      return pool.every((other) => inSet.has(other) || (adds[other] as Add).ret >= call);
    };
    const optionalTotals: number[] = [];
    let suffix = groups.reduce((sum, group) => sum + group.reduce((groupSum, position) => groupSum + (adds[position] as Add).delta, 0), 0);
    for (let i = optionalKnown.length - 1; i >= 0; i -= 1) {
      suffix += (adds[optionalKnown[i] as number] as Add).delta;
      optionalTotals[i] = suffix;
    }
    const set: number[] = [...forced];
    function* known(i: number, total: number): Generator<number[]> {
      if (total === target) {
        yield [...set];
        return; // every add is positive: nothing more can be added
      }
      if (i === optionalKnown.length) {
        yield* unknown(0, total);
        return;
      }
      if (total + (optionalTotals[i] as number) < target) {
        return;
      }
      const position = optionalKnown[i] as number;
      const delta = (adds[position] as Add).delta;
      if (total + delta <= target && predecessorsIn(position)) {
        inSet.add(position);
        set.push(position);
        yield* known(i + 1, total + delta);
        set.pop();
        inSet.delete(position);
      }
      yield* known(i + 1, total);
    }
    function* unknown(g: number, total: number): Generator<number[]> {
      if (total === target) {
        yield [...set];
        return;
      }
      if (g === groups.length) {
        return;
      }
      const group = groups[g] as number[];
      const delta = (adds[group[0] as number] as Add).delta;
      yield* unknown(g + 1, total);
      let taken = 0;
      for (const position of group) {
        if (total + delta * (taken + 1) > target || !predecessorsIn(position)) {
          break; // later members have every predecessor this one has
        }
        inSet.add(position);
        set.push(position);
        taken += 1;
        yield* unknown(g + 1, total + delta * taken);
      }
      for (let i = 0; i < taken; i += 1) {
        inSet.delete(set.pop() as number);
      }
    }
    yield* known(0, forcedTotal);
  }
}

/** The adds by epoch, the reads by boundary, each in call order; the last epoch takes every known add left. */
function linearizationOf(adds: readonly Add[], reads: readonly Read[], placement: Placement, lastBoundary: number): number[] {
  const byCall = <T extends { call: number }>(items: T[]): T[] => items.sort((a, b) => a.call - b.call);
  const readsByBoundary: Read[][] = Array.from({ length: lastBoundary + 1 }, () => []);
  for (const read of reads) {
    (readsByBoundary[read.boundary] as Read[]).push(read);
  }
  const order: number[] = [];
  const placed = new Set<number>();
  placement.forEach((epoch, index) => {
    for (const add of byCall(epoch.map((position) => adds[position] as Add))) {
      order.push(add.index);
      placed.add(add.index);
    }
    for (const read of byCall(readsByBoundary[index + 1] as Read[])) {
      order.push(read.index);
    }
  });
  for (const add of byCall(adds.filter((add) => add.known && !placed.has(add.index)))) {
    order.push(add.index);
  }
  return order;
}

/** The violation when no placement reaches `boundary`: its first read, with the totals around it. */
function unreachableTotal(adds: readonly Add[], reads: readonly Read[], boundary: number, values: readonly number[]): Violation {
  const read = reads.filter((candidate) => candidate.boundary === boundary).sort((a, b) => a.call - b.call)[0] as Read;
  const mustPrecede = adds.filter((add) => add.ret < read.call).reduce((sum, add) => sum + add.delta, 0);
  const mayPrecede = adds.filter((add) => add.call < read.ret).reduce((sum, add) => sum + add.delta, 0);
  const previous = boundary >= 2 ? `, after reads of ${values[boundary - 2] as number}` : "";
  return {
    operation: read.index,
    reason:
      `it read ${read.value}${previous}, but no set of adds that real time allows before it totals ${read.value} together with the reads before it ` +
      `(adds that completed before it was called total ${mustPrecede}; with every add called before it returned, ${mayPrecede})`,
  };
}
