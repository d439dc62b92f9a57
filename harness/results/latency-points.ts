// The latency scatter's points: enough to see the shape, few enough for a light page.
import { outcomeOf, type OperationPair } from "../../history/operation-pairs.js";

export interface LatencyPoint {
  /** Seconds since the run started (the operation's invoke). */
  timeS: number;
  latencyMs: number;
  type: "ok" | "fail" | "info";
  f: string;
}

/** Scatter points kept in the page. */
const latencyPointsMax = 6_000;

/**
 * Points for the latency scatter. Every fail and info is kept (they are what one looks for) up to
 * half the budget; ok points are thinned evenly to fill the rest.
 */
export function latencyPoints(pairs: readonly OperationPair[]): LatencyPoint[] {
  const completed = pairs.filter((pair) => pair.completion !== undefined);
  const toPoint = (pair: OperationPair): LatencyPoint => ({
    timeS: pair.invoke.time / 1e9,
    latencyMs: ((pair.completion?.time ?? pair.invoke.time) - pair.invoke.time) / 1e6,
    type: outcomeOf(pair),
    f: pair.invoke.f,
  });
  const unusual = completed.filter((pair) => outcomeOf(pair) !== "ok").slice(0, latencyPointsMax / 2);
  const ok = completed.filter((pair) => outcomeOf(pair) === "ok");
  const stride = Math.max(1, Math.ceil(ok.length / (latencyPointsMax - unusual.length)));
  return [...ok.filter((_, position) => position % stride === 0), ...unusual].map(toPoint);
}
