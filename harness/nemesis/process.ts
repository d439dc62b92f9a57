// Process faults: kill -9 (restart on heal) and SIGSTOP (SIGCONT on heal), aimed at a random
// minority, at the current leader, or (pause-follower) at one node that is not the leader. Only a minority is ever hit, so a quorum can stay available.
import type { Cluster } from "../runtime/runtime.js";
import { nodeIdsOf, randomMinority, requireLeader, type FaultRecord, type Nemesis, type NemesisContext } from "./nemesis.js";

export const PROCESS_FAULT_NAMES = ["kill", "kill-leader", "pause", "pause-leader", "pause-follower"] as const;
export type ProcessFaultName = (typeof PROCESS_FAULT_NAMES)[number];

export class ProcessNemesis implements Nemesis {
  /** Nodes hit by the last invoke and not yet healed. */
  #targets: number[] = [];
  readonly #action: "kill" | "pause";
  readonly #aim: "minority" | "leader" | "follower";

  constructor(readonly name: ProcessFaultName) {
    this.#action = name.startsWith("kill") ? "kill" : "pause";
    this.#aim = name.endsWith("-leader") ? "leader" : name.endsWith("-follower") ? "follower" : "minority";
  }

  async invoke(cluster: Cluster, context: NemesisContext, signal?: AbortSignal): Promise<FaultRecord> {
    const targets =
      this.#aim === "leader"
        ? [await requireLeader(context, this.name, signal)]
        : this.#aim === "follower"
          ? [await randomFollower(cluster, context, this.name, signal)]
          : randomMinority(context.rng, nodeIdsOf(cluster), this.name);
    for (const node of targets) {
      // Recorded before acting, so a failure half-way still heals what was done.
      this.#targets.push(node);
      if (this.#action === "kill") {
        await cluster.kill(node, signal);
      } else {
        await cluster.pause(node, signal);
      }
    }
    context.log.info(`nemesis: ${this.#action}`, { nemesis: this.name, nodes: targets });
    return { f: this.name, value: { nodes: targets, action: this.#action === "kill" ? "SIGKILL" : "SIGSTOP" } };
  }

  async heal(cluster: Cluster, signal?: AbortSignal): Promise<FaultRecord | undefined> {
    if (this.#targets.length === 0) {
      return undefined;
    }
    const targets = [...new Set(this.#targets)].sort((a, b) => a - b);
    // All at once: a restarting node spends most of its start waiting (replay, port), not working.
    const results = await Promise.allSettled(
      targets.map(async (node) => {
        if (this.#action === "kill") {
          await cluster.start(node, signal);
        } else {
          await cluster.resume(node, signal);
        }
        this.#targets = this.#targets.filter((target) => target !== node);
      }),
    );
    const failure = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failure !== undefined) {
      throw failure.reason instanceof Error ? failure.reason : new Error(String(failure.reason));
    }
    return { f: "heal", value: { fault: this.name, nodes: targets, action: this.#action === "kill" ? "restarted" : "SIGCONT" } };
  }
}

/** One node other than the current leader, drawn from the fault plan's generator. */
async function randomFollower(cluster: Cluster, context: NemesisContext, name: string, signal?: AbortSignal): Promise<number> {
  const leader = await requireLeader(context, name, signal);
  const followers = nodeIdsOf(cluster).filter((id) => id !== leader);
  return context.rng.pick(followers);
}
