// The simulated node's side of the Ready pipeline's ports (node/driver/ports.ts): its applied state
// (a hash-chain machine) and its memory log with the Log Matching check on every append.
import type { ConfState, Entry, HardState, Snapshot } from "../raft/messages.js";
import type { RawNode } from "../raft/raw-node.js";
import type { Done, LogStorage, SnapshotPoint } from "../driver/ports.js";
import type { AppliedState } from "../driver/ready-pipeline.js";
import type { SnapshotInstaller } from "../driver/local-snapshots.js";
import type { SimCluster } from "./cluster.js";
import { decodeMachine, encodeMachine, type SimNode } from "./sim-node.js";

/** Steps a leader's snapshot takes to install in the simulator (one per turn of the loop). */
const INSTALL_STEPS = 3;

/** The simulated node's applied state, as the pipeline sees it. */
export class SimAppliedState implements AppliedState {
  appliedTerm: number;
  confState: ConfState;

  constructor(
    readonly cluster: SimCluster,
    readonly node: SimNode,
    readonly raw: RawNode,
    snapshot: Snapshot | undefined,
  ) {
    this.appliedTerm = snapshot?.metadata.term ?? 0;
    this.confState = { voters: [...(snapshot?.metadata.confState.voters ?? node.bootstrapVoters)] };
  }

  get applied(): number {
    return this.node.machine.index;
  }

  applyEntries(entries: readonly Entry[]): void {
    const confState = this.cluster.applyEntries(this.node, this.raw, entries);
    if (confState !== undefined) {
      this.confState = confState;
    }
    const last = entries[entries.length - 1];
    if (last !== undefined && last.index === this.node.machine.index) {
      this.appliedTerm = last.term;
    }
  }

  installSnapshot(snapshot: Snapshot): void {
    if (snapshot.metadata.index <= this.node.machine.index) {
      return;
    }
    // A restored snapshot must equal the committed prefix: the machine it carries is checked when
    // the following entries apply on top of it (State Machine Safety compares every index).
    this.node.machine = decodeMachine(snapshot.data);
    this.cluster.sessions.onRestored(this.node.id, this.node.machine, "installed");
    this.appliedTerm = snapshot.metadata.term;
    this.confState = { voters: [...snapshot.metadata.confState.voters] };
    this.cluster.trace.record(this.cluster.now, "install", this.node.id, undefined, `snapshot at ${snapshot.metadata.index}`);
  }

  /**
   * Installs in INSTALL_STEPS turns of the loop, as the node installs a large state (issue 11,
   * defect 3): the pipeline holds the Ready meanwhile, and the machine changes at the last step only.
   */
  beginInstall(snapshot: Snapshot): SnapshotInstaller {
    let left = INSTALL_STEPS;
    return {
      step: () => {
        left -= 1;
        if (left > 0) {
          return false;
        }
        this.installSnapshot(snapshot);
        return true;
      },
    };
  }

  snapshotData(): Uint8Array {
    // UNSAFE (self-test): snapshots without the session table, as an implementation that keeps it apart.
    return encodeMachine(this.cluster.options.unsafeSnapshotWithoutSessions === true ? { ...this.node.machine, sessions: {} } : this.node.machine);
  }
}

/** The node's memory log, with the Log Matching check on every append the pipeline makes. */
export class CheckedLog implements LogStorage {
  constructor(
    readonly log: LogStorage,
    readonly onAppend: (entries: readonly Entry[]) => void,
  ) {}

  get lastIndex(): number {
    return this.log.lastIndex;
  }

  get snapshotIndex(): number {
    return this.log.snapshotIndex;
  }

  append(entries: readonly Entry[], hardState: HardState | undefined, done: Done): void {
    this.onAppend(entries);
    this.log.append(entries, hardState, done);
  }

  sync(done: Done): void {
    this.log.sync(done);
  }

  markSnapshot(point: SnapshotPoint, done: Done): void {
    this.log.markSnapshot(point, done);
  }

  compact(index: number, done: Done): void {
    this.log.compact(index, done);
  }
}
