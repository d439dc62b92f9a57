// Majority maths over a single voter set (one-at-a-time membership changes need no joint quorum).
import type { NodeId } from "./messages.js";
import { majority } from "../../lib/majority.js";

export type VoteResult = "won" | "lost" | "pending";

/**
 * The largest index that a majority of voters have matched: sort matches descending, take the
 * majority-th. 0 for an empty configuration.
 */
export function committedIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => number): number {
  const count = voters.length;
  if (count === 0) {
    return 0;
  }
  if (count === 1) {
    return matchOf(voters[0] as NodeId);
  }
  const matches = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    matches[i] = matchOf(voters[i] as NodeId);
  }
  matches.sort((a, b) => b - a);
  return matches[majority(count) - 1] as number;
}

/** Won once a majority granted, lost once a majority can no longer grant. */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const voter of voters) {
    const vote = votes.get(voter);
    if (vote === true) {
      granted++;
    } else if (vote === false) {
      rejected++;
    }
  }
  const needed = majority(voters.length);
  if (granted >= needed) {
    return "won";
  }
  if (voters.length - rejected < needed) {
    return "lost";
  }
  return "pending";
}
