// Membership churn: remove a random voter that is not the leader, then add the SAME node back on
// heal, with its data directory intact (its process keeps running throughout). Removing a follower
// rather than the leader keeps this fault about configuration changes, not leader loss (kill-leader
// and partition-leader cover that). Re-adding a node with old state is safe in Raft: its log is
// checked and repaired by the leader like any lagging follower's.
//
// Add and remove are idempotent on the node (a no-op answers ok), so heal simply repeats addMember
// until the leader lists the node as a voter again, or the time limit passes.
import type { Cluster, NodeEndpoint } from "../runtime/runtime.js";
import { NemesisError, requireLeader, type FaultRecord, type Nemesis, type NemesisContext } from "./nemesis.js";
import { sleep } from "../../lib/deadline.js";

const REJOIN_TIMEOUT_MS = 30_000;
const REJOIN_RETRY_MS = 250;

export class MembershipNemesis implements Nemesis {
  readonly name = "membership";
  /** The node removed by the last invoke (possibly: the outcome may have been unknown), until healed. */
  #removed: NodeEndpoint | undefined;
  #context: NemesisContext | undefined;

  async invoke(cluster: Cluster, context: NemesisContext, signal?: AbortSignal): Promise<FaultRecord> {
    this.#context = context;
    const leader = await requireLeader(context, this.name, signal);
    const voters = (await context.client.status(leader, { ...(signal === undefined ? {} : { signal }) })).voters;
    const candidates = cluster.nodes.filter((node) => node.id !== leader && voters.includes(node.id));
    if (candidates.length === 0 || voters.length < 3) {
      throw new NemesisError("CLUSTER_TOO_SMALL", this.name, `voters ${voters.join(",")} (leader ${leader}): none can be removed without leaving fewer than 2`);
    }
    const victim = context.rng.pick(candidates);
    const outcome = await context.client.removeMember(victim.id, { ...(signal === undefined ? {} : { signal }) });
    if (outcome.type === "fail") {
      throw new NemesisError("REQUEST_FAILED", this.name, `removeMember ${victim.id} failed: ${outcome.error.code}: ${outcome.error.message}`);
    }
    // ok or info: either way heal must make sure the node is a voter again.
    this.#removed = victim;
    context.log.info("nemesis: removed a member", { node: victim.id, outcome: outcome.type, votersBefore: voters });
    return {
      f: this.name,
      value: {
        removed: victim.id,
        votersBefore: voters,
        outcome: outcome.type,
        ...(outcome.type === "ok" ? { voters: outcome.value } : { error: outcome.error.code }),
      },
    };
  }

  async heal(_cluster: Cluster, signal?: AbortSignal): Promise<FaultRecord | undefined> {
    const removed = this.#removed;
    const context = this.#context;
    if (removed === undefined || context === undefined) {
      return undefined;
    }
    // Nodes listed in their --peers flags dial the address from the flags (it may be a fault proxy);
    // the address sent here is recorded in the replicated membership and used only by nodes without one.
    const member = { nodeId: removed.id, peerAddress: removed.peerAddress ?? removed.clientAddress, clientAddress: removed.clientAddress };
    const deadline = Date.now() + REJOIN_TIMEOUT_MS;
    let attempts = 0;
    let last = "no attempt";
    while (Date.now() < deadline) {
      signal?.throwIfAborted();
      attempts += 1;
      const outcome = await context.client.addMember(member, { ...(signal === undefined ? {} : { signal }) });
      if (outcome.type === "ok") {
        this.#removed = undefined;
        context.log.info("nemesis: re-added a member", { node: removed.id, attempts });
        return { f: "heal", value: { fault: this.name, added: removed.id, attempts, voters: outcome.value } };
      }
      last = `${outcome.type} ${outcome.error.code}: ${outcome.error.message}`;
      await sleep(REJOIN_RETRY_MS);
    }
    throw new NemesisError(
      "REQUEST_FAILED",
      this.name,
      `could not re-add node ${removed.id} within ${REJOIN_TIMEOUT_MS} ms (${attempts} attempts; last: ${last})`,
    );
  }
}
