// The size of a majority, shared by the Raft core's quorums and the nemesis' fault targets.

/** The smallest number of members that is more than half of `memberCount`: 1 of 1, 2 of 3 and of 4. */
export function majority(memberCount: number): number {
  return Math.floor(memberCount / 2) + 1;
}
