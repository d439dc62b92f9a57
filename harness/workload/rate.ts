// Link rates in workloads are strings in tc's units ("256kbit", "1mbit", "1.5gbit"), so a rate reads
// the same in the workload file as in the `tc qdisc ... tbf rate` command the Docker runtime runs.

const ratePattern = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit)$/;

const unitBitsPerSecond: Record<string, number> = { bit: 1, kbit: 1_000, mbit: 1_000_000, gbit: 1_000_000_000 };

/** Below this one full-size packet (1500 bytes) takes 1.5 s: links slower than that are cut, not slow. */
export const rateMinBitsPerSecond = 8_000;
export const rateMaxBitsPerSecond = 100_000_000_000;

/** The rate in bits per second, or undefined when `text` is not a rate like "1mbit". */
export function parseRateBitsPerSecond(text: string): number | undefined {
  const match = ratePattern.exec(text.trim());
  if (match === null) {
    return undefined;
  }
  const [, amount, unit] = match;
  const scale = unit === undefined ? undefined : unitBitsPerSecond[unit];
  if (amount === undefined || scale === undefined) {
    return undefined;
  }
  return Math.round(Number(amount) * scale);
}

/** Why `text` is not an acceptable link rate, or undefined when it is. */
export function rateProblem(text: string): string | undefined {
  const bitsPerSecond = parseRateBitsPerSecond(text);
  if (bitsPerSecond === undefined) {
    return `expected a rate like "256kbit", "1mbit" or "1gbit" (units: bit, kbit, mbit, gbit per second), got "${text}"`;
  }
  if (bitsPerSecond < rateMinBitsPerSecond || bitsPerSecond > rateMaxBitsPerSecond) {
    return `expected a rate from 8kbit to 100gbit, got "${text}"`;
  }
  return undefined;
}

/** Like parseRateBitsPerSecond, for text already validated by the schema. */
export function rateBitsPerSecond(text: string): number {
  const bitsPerSecond = parseRateBitsPerSecond(text);
  if (bitsPerSecond === undefined) {
    throw new Error(`invariant: "${text}" is a validated rate`);
  }
  return bitsPerSecond;
}
