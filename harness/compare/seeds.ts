// Seed lists from the command line: "1,2,3" (those seeds), "5" (seeds 1..5), "1..20" (a range).
import { compareRunsMax } from "../workload/schema.js";

/** The seeds `text` names; throws RangeError saying what was expected. */
export function parseSeeds(text: string): number[] {
  const trimmed = text.trim();
  const range = /^(\d+)\.\.(\d+)$/.exec(trimmed);
  let seeds: number[];
  if (range !== null) {
    const first = Number(range[1]);
    const last = Number(range[2]);
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || last < first) {
      throw new RangeError(`expected a range "first..last" with first <= last, got "${text}"`);
    }
    seeds = countFrom(first, last - first + 1);
  } else if (/^\d+$/.test(trimmed)) {
    seeds = countFrom(1, Number(trimmed));
  } else if (/^\d+(,\d+)+$/.test(trimmed)) {
    seeds = trimmed.split(",").map(Number);
  } else {
    throw new RangeError(`expected a seed count like "5", a list like "1,2,3" or a range like "1..20", got "${text}"`);
  }
  if (seeds.length === 0) {
    throw new RangeError(`expected at least one seed, got "${text}"`);
  }
  if (new Set(seeds).size !== seeds.length) {
    throw new RangeError(`a seed is repeated in "${text}"`);
  }
  if (seeds.some((seed) => !Number.isSafeInteger(seed))) {
    throw new RangeError(`seeds must be integers below 2^53, got "${text}"`);
  }
  return seeds;
}

/** `count` seeds starting at `first`, at most compareRunsMax of them. */
export function countFrom(first: number, count: number): number[] {
  if (!(count >= 1 && count <= compareRunsMax)) {
    throw new RangeError(`expected 1 to ${compareRunsMax} seeds, got ${count}`);
  }
  return Array.from({ length: count }, (_, index) => first + index);
}
