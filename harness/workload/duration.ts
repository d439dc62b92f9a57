// Durations in workloads are strings with a unit ("500ms", "10s", "2m", "1h"), so a YAML reader
// never has to guess whether a bare number meant seconds or milliseconds.

const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

const unitMs: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** The duration in milliseconds, or undefined when `text` is not a duration like "10s". */
export function parseDurationMs(text: string): number | undefined {
  const match = durationPattern.exec(text.trim());
  if (match === null) {
    return undefined;
  }
  const [, amount, unit] = match;
  const scale = unit === undefined ? undefined : unitMs[unit];
  if (amount === undefined || scale === undefined) {
    return undefined;
  }
  return Math.round(Number(amount) * scale);
}

/**
 * The longest duration a timer can wait: Node's setTimeout stores the delay in a signed 32-bit
 * integer and fires a longer one after 1 ms (with a warning), so "1000h" would end a run at once.
 */
export const timerLimitMs = 2 ** 31 - 1;

export interface DurationBounds {
  /** Whether "0s" is allowed (a recovery or a compound's spacing may be zero; a run's duration may not). */
  zero: boolean;
}

/** Why `text` is not a usable duration, or undefined when it is one. */
export function durationProblem(text: string, bounds: DurationBounds): string | undefined {
  const milliseconds = parseDurationMs(text);
  if (milliseconds === undefined) {
    return `expected a duration like "500ms", "10s" or "2m", got "${text}"`;
  }
  if (milliseconds === 0 && !bounds.zero) {
    return `must be longer than 0, got "${text}"`;
  }
  if (milliseconds > timerLimitMs) {
    return `must be at most ${timerLimitMs} ms (about 24.8 days, the timer limit), got "${text}"`;
  }
  return undefined;
}

/** Like parseDurationMs, for text already validated by the schema: a bad string is a programmer error. */
export function durationMs(text: string): number {
  const milliseconds = parseDurationMs(text);
  if (milliseconds === undefined) {
    throw new Error(`invariant: "${text}" is a validated duration`);
  }
  return milliseconds;
}

/** "1500" ms → "1.5s": short text for progress lines and reports. */
export function formatDuration(milliseconds: number): string {
  if (milliseconds < 1_000) {
    return `${Math.round(milliseconds)}ms`;
  }
  if (milliseconds < 120_000) {
    return `${Number((milliseconds / 1_000).toFixed(1))}s`;
  }
  return `${Number((milliseconds / 60_000).toFixed(1))}m`;
}
