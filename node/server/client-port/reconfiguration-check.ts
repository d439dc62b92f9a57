// etcd's --strict-reconfig-check: a membership change is refused when, right after it, fewer
// voters than a quorum of the new configuration would be live and caught up, so a careless (or
// hostile) call cannot leave the cluster unable to commit. An added node counts as not caught up
// (it starts empty), so three unreachable nodes added to a healthy three-node cluster are taken
// while a quorum holds (4 voters, 3 healthy; 5 voters, 3 healthy) and the third is refused.

export interface ReconfigurationCheck {
  /** Voters before the change. */
  voters: readonly number[];
  change: { type: "addMember" | "removeMember"; nodeId: number };
  /** The leader asking: it is live and caught up by definition. */
  leaderId: number;
  /** Whether a follower is live and caught up (see RequestRouter). */
  isHealthy: (voter: number) => boolean;
}

/** undefined when the change is safe; otherwise why it is refused. */
export function checkReconfiguration(check: ReconfigurationCheck): string | undefined {
  const { voters, change, leaderId } = check;
  const after = change.type === "addMember" ? [...voters, change.nodeId] : voters.filter((voter) => voter !== change.nodeId);
  const healthy = after.filter((voter) => voter === leaderId || (voter !== change.nodeId && voters.includes(voter) && check.isHealthy(voter)));
  const quorum = Math.floor(after.length / 2) + 1;
  if (healthy.length >= quorum) {
    return undefined;
  }
  const verb = change.type === "addMember" ? "adding" : "removing";
  return (
    `${verb} node ${change.nodeId} would leave ${healthy.length} live, caught-up voters (${healthy.join(",")}) of ` +
    `${after.length}, fewer than a quorum of ${quorum}; bring the others back (or wait for them to catch up) first`
  );
}
