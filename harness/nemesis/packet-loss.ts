// Degraded links rather than cut ones: random loss, and latency with jitter. Both apply to every
// node, as a flaky network would. Latency needs netem on Docker, which this host lacks: there the
// network's capabilities() say so, a run refuses such workloads before its first fault (see
// unsupportedFaults in catalogue.ts), and latency() throws FaultUnsupportedError if called anyway.
import type { Cluster } from "../runtime/runtime.js";
import { nodeIdsOf, type FaultRecord, type Nemesis, type NemesisContext, healNetwork } from "./nemesis.js";

export class LossNemesis implements Nemesis {
  readonly name = "loss";
  #active = false;

  /** `probability`: chance (0..1] that each packet a node receives from a peer is dropped. */
  constructor(readonly probability: number) {
    if (!(probability > 0 && probability <= 1)) {
      throw new RangeError(`nemesis loss: probability must be within (0, 1], got ${probability}`);
    }
  }

  async invoke(cluster: Cluster, context: NemesisContext, signal?: AbortSignal): Promise<FaultRecord> {
    const nodes = nodeIdsOf(cluster);
    this.#active = true;
    await cluster.network.loss(nodes, this.probability, signal);
    context.log.info("nemesis: packet loss", { probability: this.probability, nodes });
    return { f: this.name, value: { probability: this.probability, nodes } };
  }

  async heal(cluster: Cluster, signal?: AbortSignal): Promise<FaultRecord | undefined> {
    const record = await healNetwork(cluster, this.name, this.#active, signal);
    this.#active = false;
    return record;
  }
}

export class LatencyNemesis implements Nemesis {
  readonly name = "latency";
  #active = false;

  constructor(
    readonly delayMs: number,
    readonly jitterMs: number,
  ) {
    if (!(delayMs >= 0 && jitterMs >= 0)) {
      throw new RangeError(`nemesis latency: delay and jitter must be >= 0, got ${delayMs} ms ± ${jitterMs} ms`);
    }
  }

  async invoke(cluster: Cluster, context: NemesisContext, signal?: AbortSignal): Promise<FaultRecord> {
    const nodes = nodeIdsOf(cluster);
    this.#active = true;
    // A FaultUnsupportedError from the runtime propagates as is: its message says why.
    await cluster.network.latency(nodes, this.delayMs, this.jitterMs, signal);
    context.log.info("nemesis: latency", { delayMs: this.delayMs, jitterMs: this.jitterMs, nodes });
    return { f: this.name, value: { delayMs: this.delayMs, jitterMs: this.jitterMs, nodes } };
  }

  async heal(cluster: Cluster, signal?: AbortSignal): Promise<FaultRecord | undefined> {
    const record = await healNetwork(cluster, this.name, this.#active, signal);
    this.#active = false;
    return record;
  }
}
