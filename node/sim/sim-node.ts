// One simulated server: its disk (a memory log and snapshot files that survive crashes, minus
// unsynced writes), its tiny state machine (a hash chain over the applied commands), and, while it
// runs, its RawNode driven by the node's real Ready pipeline (node/driver) over those ports.
import type { Entry, NodeId, Snapshot } from "../raft/messages.js";
import type { InitialState, RawNode } from "../raft/raw-node.js";
import type { SeededRng as Rng } from "../../lib/rng.js";
import { MemoryLog, MemorySnapshots, type DiskScheduler, type LogImage } from "../driver/memory-ports.js";
import type { ReadyPipeline } from "../driver/ready-pipeline.js";

export interface MachineState {
  /** Index of the last applied entry. */
  index: number;
  /** FNV-1a hash chained over every applied command's bytes. */
  hash: number;
  /** Commands applied (non-empty normal entries), session duplicates left out. */
  count: number;
  /** Each session client's last applied seq (sessions.ts). */
  sessions: Record<string, number>;
}

export function emptyMachine(): MachineState {
  return { index: 0, hash: FNV_OFFSET, count: 0, sessions: {} };
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
  pipeline: ReadyPipeline | undefined = undefined;
  /** Bumped on every crash: events scheduled for an older incarnation are ignored. */
  incarnation = 0;
  log: MemoryLog;
  /** Snapshot files survive crashes (a save is durable once it completes). */
  readonly snapshots: MemorySnapshots;
  machine: MachineState = emptyMachine();

  constructor(
    readonly id: NodeId,
    /** Voters before any snapshot (the bootstrap configuration). */
    readonly bootstrapVoters: readonly NodeId[],
    readonly disk: DiskScheduler,
  ) {
    this.log = new MemoryLog(disk);
    this.snapshots = new MemorySnapshots(disk);
  }

  get alive(): boolean {
    return this.raw !== undefined;
  }

  /** The snapshot the durable log starts from. */
  get snapshotIndex(): number {
    return this.log.durable.snapshot.index;
  }

  /** Whether index (with term) survives a crash here: in the durable log or under its snapshot. */
  holdsDurably(index: number, term: number): boolean {
    const image = this.log.durable;
    if (index <= image.snapshot.index) {
      return true;
    }
    return image.entries[index - image.snapshot.index - 1]?.term === term;
  }

  /** The durable log's entries (for the discard check before a crash image replaces them). */
  durableEntries(): readonly Entry[] {
    return this.log.durable.entries;
  }

  /**
   * A crash: the disk keeps what was synced plus a prefix of later writes (torn when `tear`); the
   * process state is gone. Returns the image the restarted node recovers.
   */
  crash(rng: Rng, tear: boolean): LogImage {
    const image = this.log.crashImage(rng, tear);
    this.log = new MemoryLog(this.disk, image);
    this.raw = undefined;
    this.pipeline = undefined;
    this.incarnation++;
    return image;
  }

  /** The snapshot file the durable log's marker names. */
  markedSnapshot(): Snapshot | undefined {
    const point = this.log.durable.snapshot;
    if (point.index === 0) {
      return undefined;
    }
    const snapshot = this.snapshots.saved.get(point.index);
    if (snapshot === undefined || snapshot.metadata.term !== point.term) {
      throw new Error(`sim-node: node ${this.id}'s log marks snapshot ${point.term}/${point.index}, which no saved snapshot file holds`);
    }
    return snapshot;
  }

  initialState(): InitialState {
    const image = this.log.durable;
    const snapshot = this.markedSnapshot();
    const lastIndex = image.snapshot.index + image.entries.length;
    const hardState = image.hardState ?? { term: 0, vote: 0, commit: 0 };
    const initial: InitialState = {
      hardState: { ...hardState, commit: Math.min(Math.max(hardState.commit, image.snapshot.index), lastIndex) },
      entries: image.entries.slice(),
      confState: { voters: [...(snapshot?.metadata.confState.voters ?? this.bootstrapVoters)] },
      applied: image.snapshot.index,
    };
    if (snapshot !== undefined) {
      initial.snapshot = snapshot;
    }
    return initial;
  }

  /** The state machine as recovered at restart: the snapshot's, or empty. */
  recoverMachine(): void {
    const snapshot = this.markedSnapshot();
    this.machine = snapshot === undefined ? emptyMachine() : decodeMachine(snapshot.data);
  }
}
