// A congested network: every node's outgoing traffic is capped at a rate (tc tbf on Docker, a
// token bucket in the local proxies). Nothing is cut, but a leader that must ship entries to every
// follower through a thin pipe falls behind, heartbeats queue behind bulk appends, and elections
// time out: the slow path of a protocol rather than its failure path.
import type { Cluster } from "../runtime/runtime.js";
import { nodeIdsOf, type FaultRecord, type Nemesis, type NemesisContext, healNetwork } from "./nemesis.js";

export class BandwidthNemesis implements Nemesis {
  readonly name = "bandwidth";
  #active = false;

  /** `bitsPerSecond`: what each node may send in total, to all of its peers together. */
  constructor(readonly bitsPerSecond: number) {
    if (!(Number.isFinite(bitsPerSecond) && bitsPerSecond > 0)) {
      throw new RangeError(`nemesis bandwidth: the rate must be a positive number of bits per second, got ${bitsPerSecond}`);
    }
  }

  async invoke(cluster: Cluster, context: NemesisContext, signal?: AbortSignal): Promise<FaultRecord> {
    const nodes = nodeIdsOf(cluster);
    this.#active = true;
    await cluster.network.bandwidth(nodes, this.bitsPerSecond, signal);
    context.log.info("nemesis: bandwidth", { bitsPerSecond: this.bitsPerSecond, nodes });
    return { f: this.name, value: { bitsPerSecond: this.bitsPerSecond, nodes } };
  }

  async heal(cluster: Cluster, signal?: AbortSignal): Promise<FaultRecord | undefined> {
    const record = await healNetwork(cluster, this.name, this.#active, signal);
    this.#active = false;
    return record;
  }
}
