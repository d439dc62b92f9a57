// Runs the two info strategies of PartitionSearch side by side on one partition, in equal slices,
// and takes the verdict of whichever finishes first. Both searches are complete, so they agree;
// the portfolio costs at most twice the better strategy, where either alone can be exponentially
// worse on some histories (measured: "info-last" explodes on a generated kv history with 5% info,
// "info-first" costs 1600x more on Porcupine's etcd_002).
import type { Model } from "../plugins/api.js";
import type { MemoUsage } from "./linearized-set.js";
import type { HistoryOperation } from "./operations.js";
import {
  PartitionSearch,
  type InfoStrategy,
  type LongestAttempt,
  type ReadOnlyPredicate,
  type SearchConstraints,
  type SearchStatus,
} from "./partition-search.js";
import { assert } from "../lib/assert.js";

export const allInfoStrategies: readonly InfoStrategy[] = ["info-last", "info-first"];

export class PortfolioSearch<S> {
  private readonly searches: PartitionSearch<S>[];
  private winner: PartitionSearch<S> | null = null;

  constructor(
    model: Model<S>,
    readonly operations: readonly HistoryOperation[],
    memoUsage: MemoUsage,
    readOnly?: ReadOnlyPredicate,
    strategies: readonly InfoStrategy[] = allInfoStrategies,
    constraints: SearchConstraints = {},
  ) {
    assert(strategies.length > 0, "a portfolio needs at least one strategy");
    const hasInfo = operations.some((operation) => operation.type === "info");
    // Without info operations the strategies are identical.
    const used = hasInfo ? strategies : strategies.slice(0, 1);
    this.searches = used.map((strategy) => new PartitionSearch(model, operations, memoUsage, readOnly, strategy, constraints));
    this.winner = this.searches.find((search) => search.status !== "running") ?? null;
  }

  get status(): SearchStatus {
    return this.winner?.status ?? "running";
  }

  /** Iterations spent by all strategies. */
  get iterations(): number {
    return this.searches.reduce((sum, search) => sum + search.iterations, 0);
  }

  /** Gives each strategy an equal share of `iterationsMax`, in turns. */
  advance(iterationsMax: number, memoEntriesMax: number): SearchStatus {
    const share = Math.max(1, Math.floor(iterationsMax / this.searches.length));
    for (const search of this.searches) {
      if (this.winner !== null) {
        break;
      }
      if (search.advance(share, memoEntriesMax) !== "running") {
        this.winner = search;
      }
    }
    return this.status;
  }

  /** The winner's longest attempt, or while running the deepest of the strategies'. */
  longestAttempt(): LongestAttempt {
    if (this.winner !== null) {
      return this.winner.longestAttempt();
    }
    let deepest: LongestAttempt | null = null;
    for (const search of this.searches) {
      const attempt = search.longestAttempt();
      if (deepest === null || attempt.order.length > deepest.order.length) {
        deepest = attempt;
      }
    }
    assert(deepest !== null, "invariant: a portfolio runs at least one strategy");
    return deepest;
  }

  operationAt(local: number): HistoryOperation {
    return (this.searches[0] as PartitionSearch<S>).operationAt(local);
  }
}
