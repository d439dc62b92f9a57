// What every check returns, and how verdicts combine (Jepsen's merge-valid: false beats unknown
// beats true).

export type Validity = true | false | "unknown";

export interface CheckReport {
  valid: Validity;
  /** Set when the check itself crashed; its verdict is then "unknown" and the run still completes. */
  error?: string;
}

export function mergeValidity(verdicts: readonly Validity[]): Validity {
  if (verdicts.includes(false)) {
    return false;
  }
  return verdicts.includes("unknown") ? "unknown" : true;
}

/** Runs a check; an exception becomes an "unknown" verdict with the error, so the run is not lost. */
export async function checkSafely<R extends CheckReport>(check: () => R | Promise<R>): Promise<R | CheckReport> {
  try {
    return await check();
  } catch (error) {
    return { valid: "unknown", error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
}
