// Network partitions: each variant chooses a grudge (grudge.ts), blocks it one direction at a
// time, and heals by removing every network rule.
import type { Json } from "../../plugins/api.js";
import type { Cluster } from "../runtime/runtime.js";
import { partitionFaultNames } from "../workload/schema.js";
import { applyGrudge, bisect, bridge, completeGrudge, grudgeToJson, isolate, majoritiesRing, silenceOutbound, type Grudge } from "./grudge.js";
import { nodeIdsOf, requireLeader, type FaultRecord, type Nemesis, type NemesisContext, healNetwork } from "./nemesis.js";

/** The workload schema's partition fault names: one list, so a new variant cannot be half added. */
export const PARTITION_NAMES = partitionFaultNames;
export type PartitionName = (typeof PARTITION_NAMES)[number];

interface ChosenPartition {
  grudge: Grudge;
  /** Extra facts for the history (who was isolated, which node bridges). */
  details: Record<string, Json>;
}

type PartitionChooser = (nodeIds: number[], context: NemesisContext, signal?: AbortSignal) => Promise<ChosenPartition>;

const choosers: Record<PartitionName, PartitionChooser> = {
  "partition-halves": async (nodeIds) => {
    const halves = bisect(nodeIds);
    return { grudge: completeGrudge(halves), details: { components: halves } };
  },
  "partition-random-halves": async (nodeIds, context) => {
    const halves = bisect(context.rng.shuffle([...nodeIds])).map((half) => half.sort((a, b) => a - b));
    return { grudge: completeGrudge(halves), details: { components: halves } };
  },
  "partition-one": async (nodeIds, context) => {
    const isolated = context.rng.pick(nodeIds);
    return { grudge: isolate(isolated, nodeIds), details: { isolated } };
  },
  "partition-leader": async (nodeIds, context, signal) => {
    const leader = await requireLeader(context, "partition-leader", signal);
    return { grudge: isolate(leader, nodeIds), details: { isolated: leader, leader } };
  },
  "partition-majorities-ring": async (nodeIds, context) => {
    const ring = context.rng.shuffle([...nodeIds]);
    return { grudge: majoritiesRing(ring), details: { ring } };
  },
  "partition-bridge": async (nodeIds, context) => {
    const { grudge, bridgeNode } = bridge(context.rng.shuffle([...nodeIds]));
    return { grudge, details: { bridge: bridgeNode } };
  },
  "partition-one-way": async (nodeIds, context) => {
    const silenced = context.rng.pick(nodeIds);
    return { grudge: silenceOutbound(silenced, nodeIds), details: { outboundDropped: silenced } };
  },
};

export class PartitionNemesis implements Nemesis {
  #active = false;

  constructor(readonly name: PartitionName) {}

  async invoke(cluster: Cluster, context: NemesisContext, signal?: AbortSignal): Promise<FaultRecord> {
    const nodeIds = nodeIdsOf(cluster).sort((a, b) => a - b);
    const { grudge, details } = await choosers[this.name](nodeIds, context, signal);
    this.#active = true;
    await applyGrudge(cluster.network, grudge, signal);
    context.log.info("nemesis: partitioned", { nemesis: this.name, grudge: grudgeToJson(grudge), ...details });
    return { f: this.name, value: { grudge: grudgeToJson(grudge), ...details } };
  }

  async heal(cluster: Cluster, signal?: AbortSignal): Promise<FaultRecord | undefined> {
    const record = await healNetwork(cluster, this.name, this.#active, signal);
    this.#active = false;
    return record;
  }
}
