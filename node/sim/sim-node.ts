// One simulated server: what it has persisted (hard state, snapshot, log), its tiny state machine
// (a hash chain over the applied commands) and its live RawNode, absent while crashed.
import type { Entry, HardState, NodeId, Snapshot } from "../raft/messages.js";
import type { InitialState, RawNode } from "../raft/raw-node.js";
import type { Invariants } from "./invariants.js";

export interface MachineState {
  /** Index of the last applied entry. */
  index: number;
  /** FNV-1a hash chained over every applied command's bytes. */
  hash: number;
  /** Commands applied (non-empty normal entries). */
  count: number;
}

export function hashBytes(hash: number, data: Uint8Array): number {
  let h = hash >>> 0;
  for (let i = 0; i < data.length; i++) {
    h = Math.imul(h ^ (data[i] as number), 16777619) >>> 0;
  }
  return h;
}

export const FNV_OFFSET = 2166136261;

export function encodeMachine(state: MachineState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(state));
}

export function decodeMachine(data: Uint8Array): MachineState {
  return JSON.parse(new TextDecoder().decode(data)) as MachineState;
}

export class SimNode {
  raw: RawNode | undefined = undefined;
  /** Bumped on every crash: events scheduled for an older incarnation are ignored. */
  incarnation = 0;
  /** A Ready is being persisted; the next one waits (a server's Ready loop is sequential). */
  busy = false;
  hardState: HardState = { term: 0, vote: 0, commit: 0 };
  snapshot: Snapshot | undefined = undefined;
  /** Persisted entries after the snapshot: entries[i].index === snapshotIndex + 1 + i. */
  entries: Entry[] = [];
  machine: MachineState = { index: 0, hash: FNV_OFFSET, count: 0 };

  constructor(
    readonly id: NodeId,
    /** Voters before any snapshot (the bootstrap configuration). */
    readonly bootstrapVoters: readonly NodeId[],
  ) {}

  get alive(): boolean {
    return this.raw !== undefined;
  }

  get snapshotIndex(): number {
    return this.snapshot?.metadata.index ?? 0;
  }

  persistedTerm(index: number): number | undefined {
    if (index === this.snapshotIndex) {
      return this.snapshot?.metadata.term ?? 0;
    }
    return this.entries[index - this.snapshotIndex - 1]?.term;
  }

  /** Whether index (with term) survives a crash here: in the persisted log or under the snapshot. */
  holdsDurably(index: number, term: number): boolean {
    return index <= this.snapshotIndex || this.persistedTerm(index) === term;
  }

  initialState(): InitialState {
    const lastIndex = this.snapshotIndex + this.entries.length;
    const initial: InitialState = {
      hardState: { ...this.hardState, commit: Math.min(Math.max(this.hardState.commit, this.snapshotIndex), lastIndex) },
      entries: this.entries.slice(),
      confState: { voters: [...(this.snapshot?.metadata.confState.voters ?? this.bootstrapVoters)] },
      applied: this.snapshotIndex,
    };
    if (this.snapshot !== undefined) {
      initial.snapshot = this.snapshot;
    }
    return initial;
  }

  /** The state machine as recovered at restart: the snapshot's, or empty. */
  recoverMachine(): void {
    this.machine = this.snapshot === undefined ? { index: 0, hash: FNV_OFFSET, count: 0 } : decodeMachine(this.snapshot.data);
  }

  /** Persists a snapshot from the leader: the core dropped its whole log for it, so does the disk. */
  writeSnapshot(snapshot: Snapshot, invariants: Invariants): void {
    invariants.checkDiscard(this, this.entries, snapshot.metadata.index);
    this.snapshot = snapshot;
    this.entries = [];
  }

  /** Persists entries at their indexes, truncating a conflicting suffix (never a committed one). */
  writeEntries(entries: readonly Entry[], invariants: Invariants): void {
    const first = entries[0];
    if (first === undefined) {
      return;
    }
    const position = first.index - this.snapshotIndex - 1;
    if (position < 0 || position > this.entries.length) {
      throw new Error(`sim-node: node ${this.id} persists entry ${first.index} leaving a gap after ${this.snapshotIndex + this.entries.length}`);
    }
    if (position < this.entries.length) {
      invariants.checkDiscard(this, this.entries.slice(position), 0);
      this.entries.length = position;
    }
    for (const entry of entries) {
      this.entries.push(entry);
    }
  }
}
