// One node's Ready pipeline over memory ports, driven by hand: for the pipeline's unit tests and
// fixed schedules. Deferred pumps run only when run() is called, disk operations complete only
// when the test completes them (ManualDisk), and sent messages collect in `sent`.
import type { ConfState, Entry, Message, NodeId, Snapshot } from "../raft/messages.js";
import { RawNode, type SoftState } from "../raft/raw-node.js";
import { SeededRng } from "../../lib/rng.js";
import { ManualDisk, MemoryLog, MemorySnapshots } from "./memory-ports.js";
import type { Clock } from "./ports.js";
import { ReadyPipeline, type AppliedState, type PipelineListener, type PipelineUnsafeSwitches } from "./ready-pipeline.js";
import type { SnapshotInstaller, StateSerialiser } from "./local-snapshots.js";
import { silentLogger } from "../../lib/logger.js";

/** A state machine that counts: its snapshot is the applied index as text. */
export class CountingState implements AppliedState {
  applied = 0;
  appliedTerm = 0;
  confState: ConfState;
  readonly appliedIndexes: number[] = [];
  readonly installed: number[] = [];
  /** Indexes handed to applyAhead (apply-uncommitted only), before they commit. */
  readonly appliedAhead: number[] = [];

  constructor(voters: readonly NodeId[]) {
    this.confState = { voters: [...voters] };
  }

  applyEntries(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.index <= this.applied) {
        continue;
      }
      this.appliedIndexes.push(entry.index);
      this.applied = entry.index;
      this.appliedTerm = entry.term;
    }
  }

  applyAhead(entries: readonly Entry[]): void {
    this.appliedAhead.push(...entries.map((entry) => entry.index));
  }

  installSnapshot(snapshot: Snapshot): void {
    this.installed.push(snapshot.metadata.index);
    this.applied = snapshot.metadata.index;
    this.appliedTerm = snapshot.metadata.term;
    this.confState = { voters: [...snapshot.metadata.confState.voters] };
  }

  snapshotData(): Uint8Array {
    return new TextEncoder().encode(String(this.applied));
  }
}

/** A CountingState whose snapshots take `slices` steps of a StateSerialiser (frozen at the start). */
export class SlicedCountingState extends CountingState {
  /** Steps run so far, over every snapshot. */
  slicesRun = 0;

  /** Install steps run so far (beginInstall), over every snapshot. */
  installSlicesRun = 0;

  constructor(
    voters: readonly NodeId[],
    readonly slices: number,
    /** Steps a leader's snapshot takes to install (beginInstall); the state changes at the last one. */
    readonly installSlices = 1,
  ) {
    super(voters);
  }

  beginInstall(snapshot: Snapshot): SnapshotInstaller {
    let left = this.installSlices;
    return {
      step: () => {
        this.installSlicesRun += 1;
        left -= 1;
        if (left > 0) {
          return false;
        }
        this.installSnapshot(snapshot);
        return true;
      },
    };
  }

  beginSnapshot(): StateSerialiser {
    const data = this.snapshotData();
    let left = this.slices;
    return {
      step: () => {
        this.slicesRun += 1;
        left -= 1;
        return left > 0 ? undefined : data;
      },
    };
  }
}

export class MemoryNode {
  readonly disk = new ManualDisk();
  readonly log = new MemoryLog(this.disk);
  readonly snapshots = new MemorySnapshots(this.disk);
  readonly rawNode: RawNode;
  readonly state: CountingState;
  readonly pipeline: ReadyPipeline;
  readonly sent: Message[] = [];
  /** For each transport flush(): how many messages had been sent by then. */
  readonly flushedAt: number[] = [];
  readonly fatal: unknown[] = [];
  readonly leadership: SoftState[] = [];
  readonly #deferred: (() => void)[] = [];

  constructor(options: {
    id: NodeId;
    voters: readonly NodeId[];
    snapshotEvery?: number;
    readysInflightMax?: number;
    snapshotSlices?: number;
    /** Steps a leader's snapshot takes to install (a SlicedCountingState with beginInstall). */
    installSlices?: number;
    unsafe?: PipelineUnsafeSwitches;
  }) {
    this.rawNode = new RawNode(
      {
        id: options.id,
        electionTicks: 10,
        heartbeatTicks: 1,
        preVote: false,
        checkQuorum: false,
        maxMessageBytes: 1 << 20,
        maxEntriesPerMessage: 64,
        maxInflightMessages: 8,
        maxUncommittedEntryBytes: 1 << 30,
        rng: new SeededRng(options.id),
      },
      { hardState: { term: 0, vote: 0, commit: 0 }, entries: [], confState: { voters: [...options.voters] }, applied: 0 },
    );
    this.state =
      options.snapshotSlices === undefined && options.installSlices === undefined
        ? new CountingState(options.voters)
        : new SlicedCountingState(options.voters, options.snapshotSlices ?? 1, options.installSlices);
    const clock: Clock = { nowMs: () => 0, defer: (callback) => this.#deferred.push(callback) };
    const listener: PipelineListener = {
      beforeReady: () => undefined,
      onApplied: () => undefined,
      onReadState: () => undefined,
      onLeadership: (_previous, next) => this.leadership.push(next),
    };
    this.pipeline = new ReadyPipeline({
      rawNode: this.rawNode,
      log: this.log,
      snapshots: this.snapshots,
      transport: { send: (messages) => this.sent.push(...messages), flush: () => this.flushedAt.push(this.sent.length) },
      clock,
      state: this.state,
      listener,
      logger: silentLogger,
      readysInflightMax: options.readysInflightMax ?? 8,
      snapshotEvery: options.snapshotEvery ?? 1_000_000,
      snapshotIndex: 0,
      onFatal: (error) => this.fatal.push(error),
      ...(options.unsafe === undefined ? {} : { unsafe: options.unsafe }),
    });
  }

  /** Steps a message from a peer and kicks the pipeline (as the server does). */
  step(message: Message): void {
    this.rawNode.step(message);
    this.pipeline.kick();
  }

  /** One logical clock tick, as the server's ticker gives it. */
  tick(): void {
    this.pipeline.tick();
  }

  /** Runs the oldest deferred callback only (one turn of the event loop); false when none waits. */
  runOne(): boolean {
    const next = this.#deferred.shift();
    next?.();
    return next !== undefined;
  }

  /** Runs the deferred pumps (and any they defer in turn). */
  run(): void {
    while (this.#deferred.length > 0) {
      this.#deferred.shift()!();
    }
  }

  /** Runs pumps and completes every disk operation until nothing is left. */
  settle(): void {
    for (;;) {
      this.run();
      const before = this.disk.queues.log.length + this.disk.queues.snapshot.length;
      if (before === 0) {
        return;
      }
      this.disk.completeAll();
    }
  }

  /** Messages sent so far of one type, and forgets them. */
  take(type: Message["type"]): Message[] {
    const taken = this.sent.filter((message) => message.type === type);
    this.sent.splice(0, this.sent.length, ...this.sent.filter((message) => message.type !== type));
    return taken;
  }
}
