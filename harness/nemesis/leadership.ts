// Leadership transfer: asks the current leader to hand over to a random other voter, through the
// cluster's own API. Nothing to heal: the new leader simply leads.
import type { Cluster } from "../runtime/runtime.js";
import { NemesisError, requireLeader, type FaultRecord, type Nemesis, type NemesisContext } from "./nemesis.js";

export class TransferLeaderNemesis implements Nemesis {
  readonly name = "transfer-leader";
  readonly needsHeal = false;

  async invoke(cluster: Cluster, context: NemesisContext, signal?: AbortSignal): Promise<FaultRecord> {
    const leader = await requireLeader(context, this.name, signal);
    const voters = (await context.client.status(leader, { ...(signal === undefined ? {} : { signal }) })).voters;
    const candidates = cluster.nodes.map((node) => node.id).filter((id) => id !== leader && voters.includes(id));
    if (candidates.length === 0) {
      throw new NemesisError("CLUSTER_TOO_SMALL", this.name, `no voter other than the leader ${leader}`);
    }
    const to = context.rng.pick(candidates);
    const outcome = await context.client.transferLeader(to, { ...(signal === undefined ? {} : { signal }) });
    context.log.info("nemesis: transfer leader", { from: leader, to, outcome: outcome.type });
    return {
      f: this.name,
      value: { from: leader, to, outcome: outcome.type, ...(outcome.type === "ok" ? {} : { error: outcome.error.code }) },
    };
  }

  async heal(_cluster: Cluster, _signal?: AbortSignal): Promise<FaultRecord | undefined> {
    return undefined;
  }
}
