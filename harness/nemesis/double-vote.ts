// double-vote: a scripted sequence of real faults (partitions, a failpoint, kill -9, a leadership
// transfer) after which a voter that forgot its vote elects a second leader in the same term. On
// a correct node it ends with the second leader one term later and nothing lost; on a node that
// sends its vote before term and vote are durable (unsafe vote-not-persisted), two leaders of one
// term write different entries at the same indexes, which followers then take for the same log.
//
// Three nodes: the leader V (the voter), a candidate C, a bystander B.
//   1. B is cut off, so its log falls behind (later only V can win an election with it).
//   2. C's sends of entries and heartbeats are dropped (failpoint beforeSendToFollower=error), so
//      after C wins nothing of C's term reaches V, and V has no reason to write again.
//   3. V hands leadership to C. C campaigns in term T; V grants its vote.
//   4. C leads term T and writes clients' entries of term T on its own disk.
//   5. C is cut off; V is killed (a vote never written is lost) and restarted; B rejoins V.
//   6. V campaigns: in term T if it forgot its vote (a second leader of T), else in T + 1.
// With C's heartbeats dropped, CheckQuorum deposes C within an election timeout and C may win
// again a term later (V's vote again unwritten), so the record gives C's first and last terms.
// heal: every network rule goes, the failpoint is disarmed, and a node still down is restarted.
import { setTimeout as sleep } from "node:timers/promises";
import type { Json } from "../../plugins/api.js";
import type { Cluster } from "../runtime/runtime.js";
import { applyGrudge, isolate, replacePartition } from "./grudge.js";
import { nodeStatus, waitForLeader } from "./scenario-polls.js";
import { NemesisError, nodeIdsOf, requireLeader, type FaultRecord, type Nemesis, type NemesisContext } from "./nemesis.js";

export interface DoubleVoteTimings {
  /** How long the bystander is cut off before the transfer: long enough to fall a few entries behind. */
  bystanderLagMs: number;
  /** How long each side leads before the next step: long enough for clients' writes to land. */
  leadHoldMs: number;
  /** How long an election may take (a few election timeouts, plus a restart). */
  electionWaitMs: number;
  pollMs: number;
}

const defaultTimings: DoubleVoteTimings = { bystanderLagMs: 400, leadHoldMs: 400, electionWaitMs: 3_000, pollMs: 50 };

export class DoubleVoteNemesis implements Nemesis {
  readonly name = "double-vote";
  #networkChanged = false;
  #armed: number | undefined;
  #killed: number | undefined;
  #context: NemesisContext | undefined;
  readonly #timings: DoubleVoteTimings;

  constructor(timings: Partial<DoubleVoteTimings> = {}) {
    this.#timings = { ...defaultTimings, ...timings };
  }

  async invoke(cluster: Cluster, context: NemesisContext, signal?: AbortSignal): Promise<FaultRecord> {
    const ids = nodeIdsOf(cluster).sort((a, b) => a - b);
    if (ids.length !== 3) {
      throw new NemesisError("CLUSTER_SIZE", this.name, `scripted for exactly 3 nodes, got ${ids.length}`);
    }
    this.#context = context;
    const options = signal === undefined ? {} : { signal };
    const voter = await requireLeader(context, this.name, signal);
    const [candidate, bystander] = context.rng.shuffle(ids.filter((id) => id !== voter)) as [number, number];
    const steps: string[] = [];
    const value: Record<string, Json> = { voter, candidate, bystander, steps };
    const done = (): FaultRecord => {
      context.log.info("nemesis: double vote", value);
      return { f: this.name, value };
    };

    this.#networkChanged = true;
    await applyGrudge(cluster.network, isolate(bystander, ids), signal);
    steps.push(`isolated bystander ${bystander}`);
    await sleep(this.#timings.bystanderLagMs, undefined, options);

    this.#armed = candidate;
    await context.client.failpoint(candidate, "beforeSendToFollower", "error", options);
    steps.push(`candidate ${candidate} drops its entries and heartbeats`);

    // Not awaited: the old leader answers only once the transfer is over, which can outlast the
    // client's timeout while the candidate's heartbeats are dropped; its leadership is polled instead.
    void context.client.transferLeader(candidate, options).catch(() => undefined);
    steps.push(`asked leader ${voter} to hand over to ${candidate}`);
    const first = await waitForLeader(context, [candidate], this.#electionWait(), signal);
    if (first === undefined) {
      steps.push(`candidate ${candidate} did not become leader within ${this.#timings.electionWaitMs} ms; stopped here`);
      return done();
    }
    steps.push(`candidate ${candidate} leads term ${first.term}`);
    value.candidateFirstTerm = first.term;
    await sleep(this.#timings.leadHoldMs, undefined, options);
    // Its heartbeats are dropped, so CheckQuorum may depose it and it may win again, a term later.
    const last = await nodeStatus(context, candidate, signal);
    const candidateTerm = Math.max(first.term, last?.term ?? 0);
    value.candidateLastTerm = candidateTerm;
    value.candidateEntries = last === undefined ? null : last.lastIndex - first.lastIndex;

    await replacePartition(cluster.network, isolate(candidate, ids), signal);
    steps.push(`isolated candidate ${candidate}`);
    this.#killed = voter;
    await cluster.kill(voter, signal);
    await cluster.start(voter, signal);
    this.#killed = undefined;
    steps.push(`killed and restarted voter ${voter}`);

    const second = await waitForLeader(context, [voter, bystander], this.#electionWait(), signal);
    if (second === undefined) {
      steps.push(`no second leader within ${this.#timings.electionWaitMs} ms`);
      return done();
    }
    value.secondLeader = second.nodeId;
    value.secondTerm = second.term;
    // A voter that remembered its votes campaigns above every term it voted in; one that forgot
    // campaigns in a term the candidate already had.
    value.termReused = second.term <= candidateTerm;
    steps.push(
      `node ${second.nodeId} leads term ${second.term}` +
        (second.term <= candidateTerm ? `, not above the candidate's term ${candidateTerm}: the voter forgot its vote` : ""),
    );
    await sleep(this.#timings.leadHoldMs, undefined, options);
    return done();
  }

  #electionWait(): { waitMs: number; pollMs: number } {
    return { waitMs: this.#timings.electionWaitMs, pollMs: this.#timings.pollMs };
  }

  async heal(cluster: Cluster, signal?: AbortSignal): Promise<FaultRecord | undefined> {
    if (!this.#networkChanged && this.#armed === undefined && this.#killed === undefined) {
      return undefined;
    }
    const restarted: number[] = [];
    if (this.#networkChanged) {
      await cluster.network.heal(signal);
      this.#networkChanged = false;
    }
    const armed = this.#armed;
    this.#armed = undefined;
    if (armed !== undefined && this.#context !== undefined) {
      try {
        await this.#context.client.failpoint(armed, "beforeSendToFollower", "off", signal === undefined ? {} : { signal });
      } catch {
        await cluster.start(armed, signal);
        restarted.push(armed);
      }
    }
    const killed = this.#killed;
    this.#killed = undefined;
    if (killed !== undefined) {
      await cluster.start(killed, signal);
      restarted.push(killed);
    }
    return { f: "heal", value: { fault: this.name, network: "healed", failpoints: "off", restarted } };
  }
}
