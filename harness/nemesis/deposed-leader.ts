// deposed-leader: a leader that still believes it leads while the others have elected a successor
// and commit writes. Cut off from the majority, a leader steps down by CheckQuorum within one to
// two election timeouts, about when the others elect a new one, so whether both lead at once is a
// race the network's timing decides (on Docker the old leader nearly always stepped down first).
// Here the successor is elected at once, by a leadership transfer the old leader starts but never
// hears the end of: the old leader hears nothing from the others from then on, yet keeps sending,
// and leads until its CheckQuorum one to two election timeouts later. On a correct node it answers
// no read without a quorum's confirmation meanwhile; on a node with the unsafe read-without-quorum
// switch it serves reads of values the successor has overwritten.
//
//   1. The leader L refuses clients' proposals (failpoint beforePropose), so the successor S catches
//      up with L's log: a transfer starts only to a follower that holds all of it.
//   2. L stops hearing every other node (their traffic to L is dropped; L's still leaves).
//   3. L is asked to hand over to S: S campaigns at once and wins with the third node's vote.
//   4. L is polled until it no longer leads (or holdMs passes).
// heal: every network rule goes, and the failpoint is disarmed (a node that stopped is restarted).
import type { Json } from "../../plugins/api.js";
import type { Cluster } from "../runtime/runtime.js";
import { sleep } from "../../lib/deadline.js";
import { applyGrudge, type Grudge } from "./grudge.js";
import { nodeStatus, waitForLeader, waitForStatus } from "./scenario-polls.js";
import { nodeIdsOf, requireLeader, type FaultRecord, type Nemesis, type NemesisContext } from "./nemesis.js";

export interface DeposedLeaderTimings {
  /** How long the successor has to catch up with the leader's log once proposals stop. */
  catchUpMs: number;
  /** How long the successor may take to win. */
  electionWaitMs: number;
  /** How long the deposed leader is watched once the successor leads. */
  holdMs: number;
  pollMs: number;
}

const defaultTimings: DeposedLeaderTimings = { catchUpMs: 100, electionWaitMs: 2_000, holdMs: 1_500, pollMs: 10 };

export class DeposedLeaderNemesis implements Nemesis {
  readonly name = "deposed-leader";
  #networkChanged = false;
  #armed: number | undefined;
  #context: NemesisContext | undefined;
  readonly #timings: DeposedLeaderTimings;

  constructor(timings: Partial<DeposedLeaderTimings> = {}) {
    this.#timings = { ...defaultTimings, ...timings };
  }

  async invoke(cluster: Cluster, context: NemesisContext, signal?: AbortSignal): Promise<FaultRecord> {
    this.#context = context;
    const options = signal === undefined ? {} : { signal };
    const ids = nodeIdsOf(cluster).sort((a, b) => a - b);
    const leader = await requireLeader(context, this.name, signal);
    const others = ids.filter((id) => id !== leader);
    const successor = context.rng.pick(others);
    const steps: string[] = [];
    const value: Record<string, Json> = { leader, successor, steps };
    const done = (): FaultRecord => {
      context.log.info("nemesis: deposed leader", value);
      return { f: this.name, value };
    };

    this.#armed = leader;
    await context.client.failpoint(leader, "beforePropose", "error", options);
    await sleep(this.#timings.catchUpMs, signal);
    steps.push(`${leader} refuses proposals`);

    this.#networkChanged = true;
    const deaf: Grudge = new Map([[leader, new Set(others)]]);
    await applyGrudge(cluster.network, deaf, signal);
    steps.push(`${leader} hears none of ${others.join(", ")}`);

    // Not awaited: the leader answers once it sees the new leader, which it never hears.
    void context.client.transferLeader(successor, options).catch(() => undefined);
    const elected = await waitForLeader(context, [successor], { waitMs: this.#timings.electionWaitMs, pollMs: this.#timings.pollMs }, signal);
    if (elected === undefined) {
      steps.push(`${successor} did not become leader within ${this.#timings.electionWaitMs} ms`);
      return done();
    }
    const old = await nodeStatus(context, leader, signal);
    value.successorTerm = elected.term;
    // Both lead at once: the old leader in its term, deaf, the successor in a later one.
    value.overlap = old?.role === "leader";
    steps.push(`${successor} leads term ${elected.term}; ${leader} ${old?.role === "leader" ? `still leads term ${old.term}` : "no longer leads"}`);
    if (old?.role === "leader") {
      const startedMs = performance.now();
      const after = await waitForStatus(
        context,
        leader,
        (status) => status.role !== "leader",
        { waitMs: this.#timings.holdMs, pollMs: this.#timings.pollMs },
        signal,
      );
      value.overlapMs = Math.round(performance.now() - startedMs);
      steps.push(after?.role === "leader" ? `${leader} still leads after ${this.#timings.holdMs} ms` : `${leader} stepped down after ${value.overlapMs} ms`);
    }
    return done();
  }

  async heal(cluster: Cluster, signal?: AbortSignal): Promise<FaultRecord | undefined> {
    if (!this.#networkChanged && this.#armed === undefined) {
      return undefined;
    }
    if (this.#networkChanged) {
      await cluster.network.heal(signal);
      this.#networkChanged = false;
    }
    const restarted: number[] = [];
    const armed = this.#armed;
    this.#armed = undefined;
    if (armed !== undefined && this.#context !== undefined) {
      try {
        await this.#context.client.failpoint(armed, "beforePropose", "off", signal === undefined ? {} : { signal });
      } catch {
        // It stopped (on its own log assertion, say): bring it back, as kill's heal does.
        await cluster.start(armed, signal);
        restarted.push(armed);
      }
    }
    return { f: "heal", value: { fault: this.name, network: "healed", failpoints: "off", restarted } };
  }
}
