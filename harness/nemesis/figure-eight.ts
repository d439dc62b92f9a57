// figure-8: the Raft paper's Figure 8, played on five real nodes with partitions and failpoints.
// A leader must not commit an entry of an earlier term by counting its replicas: a node that holds
// a later-term entry at the same index can still be elected and overwrite it. On a correct node the
// sequence ends with nothing lost (the returning leader commits through an entry of its own term,
// which keeps the later-term node from winning); on a node with the unsafe commit-previous-term
// switch, followers are asked to drop entries they already know as committed, which the node's
// own log assertion reports (node-logs), or which clients see as lost writes.
//
// Five nodes: the leader A, a partner B, and three others O.
//   1. A and B are cut off together (each of O alone): A writes clients' entries X onto B only.
//      O's sends of entries and heartbeats are dropped from now on (failpoint beforeSendToFollower).
//   2. A and B are cut apart; O is joined up and elects a leader E in a later term, whose entries
//      Y (clients' writes, and on a correct node its empty entry) stay on E alone; E is cut off once
//      it holds one.
//   3. A and B refuse clients' proposals (failpoint beforePropose) and are joined with O minus E:
//      one of them, W, is elected and brings X to O minus E. A correct W commits X only through an
//      entry of its own term (its empty entry); an unsafe W commits X by counting replicas.
//   4. O's sends flow again and E refuses proposals; W and the other of A and B are cut off; E is
//      joined with O minus E and is elected if its log is the more up to date (its last term is
//      above X's), then sends Y over X, or hears of commits beyond its log.
// heal: every network rule goes, every failpoint is disarmed (a node that stopped is restarted).
import { setTimeout as sleep } from "node:timers/promises";
import type { Json } from "../../plugins/api.js";
import type { FailpointName } from "../../node/protocol/failpoints.js";
import type { Cluster } from "../runtime/runtime.js";
import { completeGrudge, replacePartition } from "./grudge.js";
import { nodeStatus, waitForLeader, waitForStatus } from "./scenario-polls.js";
import { NemesisError, nodeIdsOf, requireLeader, type FaultRecord, type Nemesis, type NemesisContext } from "./nemesis.js";

export interface FigureEightTimings {
  /** How long A leads with B alone: long enough for clients' entries to reach both. */
  holdMs: number;
  /** How long an election (or a commit) may take. */
  waitMs: number;
  pollMs: number;
}

const defaultTimings: FigureEightTimings = { holdMs: 500, waitMs: 3_000, pollMs: 10 };

export class FigureEightNemesis implements Nemesis {
  readonly name = "figure-8";
  #networkChanged = false;
  /** Failpoints armed by the last invoke, per node, for heal to disarm. */
  #armed = new Map<number, FailpointName[]>();
  #context: NemesisContext | undefined;
  readonly #timings: FigureEightTimings;

  constructor(timings: Partial<FigureEightTimings> = {}) {
    this.#timings = { ...defaultTimings, ...timings };
  }

  async invoke(cluster: Cluster, context: NemesisContext, signal?: AbortSignal): Promise<FaultRecord> {
    const ids = nodeIdsOf(cluster).sort((a, b) => a - b);
    if (ids.length !== 5) {
      throw new NemesisError("CLUSTER_SIZE", this.name, `scripted for exactly 5 nodes, got ${ids.length}`);
    }
    this.#context = context;
    const options = signal === undefined ? {} : { signal };
    const wait = { waitMs: this.#timings.waitMs, pollMs: this.#timings.pollMs };
    const a = await requireLeader(context, this.name, signal);
    const [b, ...others] = context.rng.shuffle(ids.filter((id) => id !== a)) as [number, ...number[]];
    others.sort((x, y) => x - y);
    const steps: string[] = [];
    const value: Record<string, Json> = { leader: a, partner: b, others, steps };
    const done = (): FaultRecord => {
      context.log.info("nemesis: figure 8", value);
      return { f: this.name, value };
    };
    const partition = async (components: number[][]): Promise<void> => {
      this.#networkChanged = true;
      await replacePartition(cluster.network, completeGrudge(components), signal);
    };
    const arm = async (nodes: readonly number[], point: FailpointName, action: string): Promise<void> => {
      for (const node of nodes) {
        this.#armed.set(node, [...(this.#armed.get(node) ?? []), point]);
        await context.client.failpoint(node, point, action, options);
      }
    };
    const disarm = async (nodes: readonly number[], point: FailpointName): Promise<void> => {
      for (const node of nodes) {
        await context.client.failpoint(node, point, "off", options);
        const left = (this.#armed.get(node) ?? []).filter((armed) => armed !== point);
        if (left.length === 0) {
          this.#armed.delete(node);
        } else {
          this.#armed.set(node, left);
        }
      }
    };

    // 1. A writes X onto B only.
    await arm(others, "beforeSendToFollower", "error");
    await partition([[a, b], ...others.map((node) => [node])]);
    await sleep(this.#timings.holdMs, undefined, options);
    // The hold ends once A holds entries the others lack. A partition takes effect node by node (on
    // Docker a few hundred milliseconds in all), so the others' logs are read after it.
    const othersLast = Math.max(...(await Promise.all(others.map(async (node) => (await nodeStatus(context, node, signal))?.lastIndex ?? 0))));
    const aStatus = await waitForStatus(context, a, (status) => status.lastIndex > othersLast || status.role !== "leader", wait, signal);
    const xLast = aStatus?.lastIndex ?? 0;
    value.xLastIndex = xLast;
    value.othersLastIndex = othersLast;
    steps.push(`${a} and ${b} cut off together: ${a}'s log reaches ${xLast}, the others' ${othersLast}`);
    if (xLast <= othersLast) {
      steps.push(`${a} wrote no entry beyond the others' logs while it led; stopped here`);
      return done();
    }

    // 2. O elects E, whose entries stay on E.
    await partition([[a], [b], others]);
    const e = await waitForLeader(context, others, wait, signal);
    if (e === undefined) {
      steps.push(`none of ${others.join(", ")} became leader within ${this.#timings.waitMs} ms; stopped here`);
      return done();
    }
    const rest = others.filter((node) => node !== e.nodeId);
    // E is cut off as soon as it holds one entry of its term: the fewer it writes, the likelier it is
    // that X reaches past E's log, so that an unsafe E later hears of commits it lacks.
    const written = await waitForStatus(context, e.nodeId, (status) => status.lastIndex > e.lastIndex, wait, signal);
    await partition([[a], [b], [e.nodeId], rest]);
    const yLast = written?.lastIndex ?? e.lastIndex;
    value.laterLeader = e.nodeId;
    value.laterTerm = e.term;
    value.laterLastIndex = yLast;
    steps.push(`${e.nodeId} led term ${e.term} with its entries (to ${yLast}) on itself only, then was cut off`);

    // 3. A or B returns without entries of its own term and brings X to the rest of O.
    await arm([a, b], "beforePropose", "error");
    await partition([[a, b, ...rest], [e.nodeId]]);
    const w = await waitForLeader(context, [a, b], wait, signal);
    if (w === undefined) {
      steps.push(`neither ${a} nor ${b} became leader within ${this.#timings.waitMs} ms; stopped here`);
      return done();
    }
    const committed = await waitForStatus(context, w.nodeId, (status) => status.commit >= xLast, wait, signal);
    // Followers learn the commit index with the next heartbeat.
    await sleep(this.#timings.holdMs / 2, undefined, options);
    value.returningLeader = w.nodeId;
    value.returningTerm = w.term;
    value.returningCommit = committed?.commit ?? null;
    steps.push(`${w.nodeId} leads term ${w.term}, commit ${committed?.commit ?? "unknown"} (X ends at ${xLast})`);

    // 4. E returns, able to send again: elected only if its last term is above every voter's.
    // E takes no new entries either, so its log stays shorter than X (see step 2).
    await disarm(others, "beforeSendToFollower");
    await arm([e.nodeId], "beforePropose", "error");
    const otherOfPair = w.nodeId === a ? b : a;
    await partition([[w.nodeId], [otherOfPair], [e.nodeId, ...rest]]);
    const final = await waitForLeader(context, [e.nodeId, ...rest], wait, signal);
    if (final === undefined) {
      steps.push(`no leader among ${[e.nodeId, ...rest].join(", ")} within ${this.#timings.waitMs} ms`);
      return done();
    }
    value.finalLeader = final.nodeId;
    value.finalTerm = final.term;
    steps.push(`${final.nodeId} leads term ${final.term}${final.nodeId === e.nodeId ? `: the later-term leader is back over X` : ""}`);
    await sleep(this.#timings.holdMs, undefined, options);
    return done();
  }

  async heal(cluster: Cluster, signal?: AbortSignal): Promise<FaultRecord | undefined> {
    if (!this.#networkChanged && this.#armed.size === 0) {
      return undefined;
    }
    if (this.#networkChanged) {
      await cluster.network.heal(signal);
      this.#networkChanged = false;
    }
    const armed = this.#armed;
    this.#armed = new Map();
    const restarted: number[] = [];
    for (const [node, points] of [...armed].sort(([x], [y]) => x - y)) {
      try {
        for (const point of points) {
          await this.#context?.client.failpoint(node, point, "off", signal === undefined ? {} : { signal });
        }
      } catch {
        // It stopped (on its own log assertion, say): bring it back, as kill's heal does.
        await cluster.start(node, signal);
        restarted.push(node);
      }
    }
    return { f: "heal", value: { fault: this.name, network: "healed", failpoints: "off", restarted } };
  }
}
