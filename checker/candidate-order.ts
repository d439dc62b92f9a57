// The order in which a level of the partition search tries its candidates (see
// partition-search.ts): a rank per kind of candidate, an order within the rank, and the groups of
// interchangeable info operations of which a level tries only one.
import type { HistoryOperation } from "./operations.js";

export const rankReadOnly = 0;
export const rankPreserving = 1;
export const rankInfoFirst = 1.5;
export const rankBlocking = 2;
export const rankChanging = 3;
export const rankInfoLast = 4;

/**
 * Where info candidates go in a level's order. Neither is good everywhere: "info-last" is fast
 * when most info ops never took effect (Porcupine's etcd histories: info cas on a small value
 * set), and exponential when an info write's value is read later (it is tried only after every
 * ok alternative below fails); "info-first" is the reverse. See PortfolioSearch.
 */
export type InfoStrategy = "info-first" | "info-last";

/**
 * Hinted operations first, by priority, in [0, 0.25); then the others latest call first, in
 * [0.25, 0.5). Both fit exactly in a double added to a small integer rank. Indexed by local id.
 */
export function orderWithinRank(
  operations: readonly HistoryOperation[],
  localOf: ReadonlyMap<HistoryOperation, number>,
  priorities: ReadonlyMap<number, number> = new Map(),
): Float64Array {
  const order = new Float64Array(operations.length);
  const hinted = [...priorities].sort((a, b) => a[1] - b[1]);
  hinted.forEach(([position], rankIndex) => {
    order[localOf.get(operations[position] as HistoryOperation) as number] = (rankIndex / (hinted.length + 1)) * 0.25;
  });
  operations.forEach((operation, position) => {
    if (!priorities.has(position)) {
      order[localOf.get(operation) as number] = 0.25 + (2 ** 40 - operation.invokeIndex) / 2 ** 43;
    }
  });
  return order;
}

/**
 * Info operations with identical inputs are interchangeable (both may take effect at any time
 * after their calls, which are both past), so a level tries only the first of each group. An info
 * op with precedences is not interchangeable with one that has other precedences: it is alone.
 */
export class InfoGroups {
  private readonly groupOf: Int32Array;
  private readonly stamp: Int32Array;
  private stampNow = 0;

  /** `isConstrained(local)`: whether the op takes part in a precedence. */
  constructor(localOperations: readonly HistoryOperation[], isConstrained: (local: number) => boolean) {
    const groups = new Map<string, number>();
    this.groupOf = Int32Array.from(localOperations, (operation, local) => {
      if (operation.type !== "info") {
        return -1;
      }
      const signature = isConstrained(local) ? `#${local}` : JSON.stringify([operation.input.f, operation.input.key ?? null, operation.input.value]);
      let group = groups.get(signature);
      if (group === undefined) {
        group = groups.size;
        groups.set(signature, group);
      }
      return group;
    });
    this.stamp = new Int32Array(groups.size);
  }

  /** Starts a new level: every group may offer one candidate again. */
  startLevel(): void {
    this.stampNow += 1;
  }

  /** True when an info op of the same group was already a candidate of the level being built. */
  isDuplicate(local: number): boolean {
    const group = this.groupOf[local] as number;
    if (this.stamp[group] === this.stampNow) {
      return true;
    }
    this.stamp[group] = this.stampNow;
    return false;
  }
}
