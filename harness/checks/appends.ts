// A cheap exactly-once check for kv appends, beyond linearizability: workload generators append
// run-wide unique, space-terminated tokens ("12 "), so an ok read of a key that only ever saw
// appends must consist of tokens that were appended to that key, each at most once. A token read
// twice is one append applied twice (a retried command deduplicated by no one: a lost client
// session); a token never appended there was invented. It needs no search, so it gives a verdict
// where the linearizability search of a long append history runs out of time.
import { outcomeOf, type OperationPair } from "../../history/operation-pairs.js";
import type { CheckReport } from "./check-report.js";

export interface AppendViolation {
  /** History index of the read's invocation and completion. */
  invokeIndex: number;
  completionIndex: number;
  process: number;
  key: string;
  kind: "duplicated" | "unknown";
  /** The token at fault, without its trailing space. */
  token: string;
  /** duplicated: how many times the read shows it. */
  count: number;
}

export interface AppendsReport extends CheckReport {
  /** Keys written only by appends of distinct whitespace-free tokens: the ones checked. */
  keysChecked: number;
  reads: number;
  violationCount: number;
  /** The first violations in history order (at most 20). */
  violations: AppendViolation[];
}

const violationsShownMax = 20;

export function checkAppends(pairs: readonly OperationPair[], names = { append: "append", read: "get" }): AppendsReport {
  // Per key: the tokens appended (any outcome: an indeterminate append may have happened), or null
  // once the key is written otherwise or a token is not unique, so the key cannot be checked.
  const appended = new Map<string, Set<string> | null>();
  for (const pair of pairs) {
    const { f, key, value } = pair.invoke;
    if (typeof key !== "string" || f === names.read) {
      continue;
    }
    const tokens = appended.get(key);
    const token = typeof value === "string" && /^\S+ $/.test(value) ? value.slice(0, -1) : undefined;
    if (f !== names.append || token === undefined || tokens === null || tokens?.has(token) === true) {
      appended.set(key, null);
      continue;
    }
    appended.set(key, (tokens ?? new Set<string>()).add(token));
  }
  const violations: AppendViolation[] = [];
  let violationCount = 0;
  let reads = 0;
  for (const pair of pairs) {
    const { f, key, process } = pair.invoke;
    if (f !== names.read || outcomeOf(pair) !== "ok" || typeof key !== "string") {
      continue;
    }
    const written = appended.get(key);
    if (written === null) {
      continue;
    }
    // A key never written has no tokens to show (the store starts empty).
    const tokens = written ?? new Set<string>();
    const read = pair.completion?.value;
    reads += 1;
    if (typeof read !== "string") {
      continue; // null: the key is absent
    }
    const counts = new Map<string, number>();
    for (const token of read.split(" ").filter((part) => part !== "")) {
      counts.set(token, (counts.get(token) ?? 0) + 1);
    }
    for (const [token, count] of counts) {
      const kind = !tokens.has(token) ? "unknown" : count > 1 ? "duplicated" : undefined;
      if (kind === undefined) {
        continue;
      }
      violationCount += 1;
      if (violations.length < violationsShownMax) {
        violations.push({ invokeIndex: pair.invokeIndex, completionIndex: pair.completionIndex ?? pair.invokeIndex, process, key, kind, token, count });
      }
    }
  }
  return { valid: violationCount === 0, keysChecked: [...appended.values()].filter((tokens) => tokens !== null).length, reads, violationCount, violations };
}
