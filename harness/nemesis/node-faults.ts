// Faults inside a node rather than between nodes. power-loss: kill -9 of nodes that run with
// --simulate-power-loss, so each loses exactly its unsynced writes, as a power cut loses the page
// cache (Jepsen uses LazyFS for this); restarted on heal. failpoint: arms a named failpoint
// (node/protocol/failpoints.ts) on the target nodes through their client port (nodes run with
// --failpoints); disarmed on heal, and nodes a panic ended are restarted. disk-stall: a failpoint
// pair that makes every WAL write and fsync of the targets wait.
import type { FailpointName } from "../../node/protocol/failpoints.js";
import type { Cluster } from "../runtime/runtime.js";
import type { FaultTarget } from "../workload/schema.js";
import { NemesisError, nodeIdsOf, randomMinority, requireLeader, type FaultRecord, type Nemesis, type NemesisContext } from "./nemesis.js";

async function chooseTargets(target: FaultTarget, cluster: Cluster, context: NemesisContext, nemesis: string, signal?: AbortSignal): Promise<number[]> {
  const ids = nodeIdsOf(cluster);
  switch (target) {
    case "leader":
      return [await requireLeader(context, nemesis, signal)];
    case "followers": {
      const leader = await requireLeader(context, nemesis, signal);
      const followers = ids.filter((id) => id !== leader);
      if (followers.length === 0) {
        throw new NemesisError("CLUSTER_TOO_SMALL", nemesis, "a single node has no followers");
      }
      return followers;
    }
    case "one":
      return [ids[context.rng.int(ids.length)]!];
    case "minority":
      return randomMinority(context.rng, ids, nemesis);
    case "all":
      return [...ids];
  }
}

export class PowerLossNemesis implements Nemesis {
  readonly name = "power-loss";
  #targets: number[] = [];

  constructor(readonly target: FaultTarget) {}

  async invoke(cluster: Cluster, context: NemesisContext, signal?: AbortSignal): Promise<FaultRecord> {
    const targets = await chooseTargets(this.target, cluster, context, this.name, signal);
    for (const node of targets) {
      this.#targets.push(node); // recorded before acting, so a failure half-way still heals
    }
    // At once: a power cut of several nodes is one instant, not a sequence.
    await Promise.all(targets.map((node) => cluster.kill(node, signal)));
    context.log.info("nemesis: power loss", { nodes: targets });
    return { f: this.name, value: { nodes: targets, target: this.target, action: "SIGKILL, unsynced writes lost" } };
  }

  async heal(cluster: Cluster, signal?: AbortSignal): Promise<FaultRecord | undefined> {
    if (this.#targets.length === 0) {
      return undefined;
    }
    const targets = [...new Set(this.#targets)].sort((a, b) => a - b);
    await Promise.all(targets.map((node) => cluster.start(node, signal)));
    this.#targets = [];
    return { f: "heal", value: { fault: this.name, nodes: targets, action: "restarted" } };
  }
}

export class FailpointNemesis implements Nemesis {
  #targets: number[] = [];
  /** The invoke's context: heal disarms through the same client. */
  #context: NemesisContext | undefined;

  constructor(
    readonly name: "failpoint" | "disk-stall",
    readonly points: readonly FailpointName[],
    readonly action: string,
    readonly target: FaultTarget,
  ) {}

  async invoke(cluster: Cluster, context: NemesisContext, signal?: AbortSignal): Promise<FaultRecord> {
    const targets = await chooseTargets(this.target, cluster, context, this.name, signal);
    this.#targets = targets;
    this.#context = context;
    const options = signal === undefined ? {} : { signal };
    for (const node of targets) {
      for (const point of this.points) {
        await context.client.failpoint(node, point, this.action, options);
      }
    }
    context.log.info(`nemesis: ${this.name}`, { nodes: targets, failpoints: this.points, action: this.action });
    return { f: this.name, value: { nodes: targets, failpoints: [...this.points], action: this.action } };
  }

  async heal(cluster: Cluster, signal?: AbortSignal): Promise<FaultRecord | undefined> {
    const context = this.#context;
    if (this.#targets.length === 0 || context === undefined) {
      return undefined;
    }
    const targets = this.#targets;
    this.#targets = [];
    const restarted: number[] = [];
    for (const node of targets) {
      try {
        for (const point of this.points) {
          await context.client.failpoint(node, point, "off", signal === undefined ? {} : { signal });
        }
      } catch {
        // A panic (or an error the node stopped on) ended it: bring it back, as kill's heal does.
        await cluster.start(node, signal);
        restarted.push(node);
      }
    }
    return { f: "heal", value: { fault: this.name, nodes: targets, failpoints: "off", restarted } };
  }
}
