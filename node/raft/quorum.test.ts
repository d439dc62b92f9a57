import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { committedIndex, voteResult } from "./quorum.js";

/** The naive definition: the largest index that at least a majority of voters have reached. */
function bruteForceCommitted(matches: number[]): number {
  let best = 0;
  for (const candidate of matches) {
    const reached = matches.filter((match) => match >= candidate).length;
    if (reached > matches.length / 2 && candidate > best) {
      best = candidate;
    }
  }
  return best;
}

describe("quorum", () => {
  test("committedIndex agrees with the brute-force definition", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 50 }), { minLength: 1, maxLength: 9 }), (matches) => {
        const voters = matches.map((_, i) => i + 1);
        expect(committedIndex(voters, (id) => matches[id - 1] ?? 0)).toBe(bruteForceCommitted(matches));
      }),
      { numRuns: 5000 },
    );
  });

  test("voteResult: won with a majority of grants, lost once a majority rejects, else pending", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom<boolean | undefined>(true, false, undefined), { minLength: 1, maxLength: 7 }), (votes) => {
        const voters = votes.map((_, i) => i + 1);
        const map = new Map<number, boolean>();
        votes.forEach((vote, i) => vote !== undefined && map.set(i + 1, vote));
        const granted = votes.filter((v) => v === true).length;
        const rejected = votes.filter((v) => v === false).length;
        const needed = Math.floor(votes.length / 2) + 1;
        const expected = granted >= needed ? "won" : votes.length - rejected < needed ? "lost" : "pending";
        expect(voteResult(voters, map)).toBe(expected);
      }),
    );
  });
});
