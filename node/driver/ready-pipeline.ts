// The node's Ready pipeline, with no I/O of its own: the one place that decides when a node's
// messages leave, when its writes are durable and when entries apply. The node server runs it over
// the WAL, snapshot files and TCP; the simulator runs it unchanged over memory ports.
//
// Each Ready's writes start when it is taken (snapshot file, then its marker, then entries + hard
// state with one sync per Ready: every proposal since the last Ready shares it; the log performs
// writes in call order), and Readys finish strictly in order: apply the committed entries that are
// already durable, wait for the Ready's own write, send the messages that waited for it, apply the
// rest, answer, advance. Up to `readysInflightMax` Readys are in flight (etcd's asynchronous
// storage writes), so a leader replicates a new batch while the previous batch's sync still runs.
// A leader's heartbeats leave before its writes, and heartbeats and their responses that wait
// behind a stalled chain leave after two ticks (tick()); local snapshots write their files beside
// the chain, not in it; so a slow disk does not silence a node (issue 11, defect 2).
import { assert } from "../../lib/assert.js";
import type { HardState, Message } from "../raft/messages.js";
import type { RawNode, Ready, SoftState } from "../raft/raw-node.js";
import type { Clock, Done, LogStorage, PeerTransport, SnapshotStorage } from "./ports.js";
import { LocalSnapshots, type AppliedState, type SnapshotInstaller } from "./local-snapshots.js";
import type { Logger } from "../../lib/logger.js";

export type { AppliedState } from "./local-snapshots.js";

/** What the pipeline tells the request side (RequestRouter) as Readys finish. */
export interface PipelineListener {
  /** Before Readys are taken: issue what was queued since (one ReadIndex for the batched reads). */
  beforeReady(): void;
  onApplied(applied: number): void;
  onReadState(context: Uint8Array, index: number): void;
  /** After a Ready's entries are applied: the leader or the term changed. */
  onLeadership(previous: SoftState, next: SoftState, termChanged: boolean): void;
}

export interface ReadyPipelineOptions {
  rawNode: RawNode;
  log: LogStorage;
  snapshots: SnapshotStorage;
  transport: PeerTransport;
  clock: Clock;
  state: AppliedState;
  listener: PipelineListener;
  logger: Logger;
  /** Readys taken whose writes or completion are still pending (8 in the server). */
  readysInflightMax: number;
  /** Take a local snapshot every this many applied entries. */
  snapshotEvery: number;
  /** Index of the snapshot the node started from (0: none). */
  snapshotIndex: number;
  /** A write failed or an invariant broke: the node must stop. */
  onFatal(error: unknown): void;
  /** The node's unsafe switches that live in the pipeline (node/protocol/unsafe-flags.ts). */
  unsafe?: PipelineUnsafeSwitches;
}

export interface PipelineUnsafeSwitches {
  /** vote-not-persisted: a term-and-vote-only hard state is not written before its vote leaves. */
  voteNotPersisted?: boolean;
  /** ack-before-fsync (etcd's --unsafe-no-fsync): a Ready counts as durable once written, unsynced. */
  ackBeforeFsync?: boolean;
  /** apply-uncommitted: entries are applied (and answered) once durable locally, before they commit. */
  applyUncommitted?: boolean;
}

/** Ticks without a Ready finishing after which the chain counts as stalled (see tick()). */
const STALLED_AFTER_TICKS = 2;

interface InflightReady {
  ready: Ready;
  /** Messages that wait for this Ready's write. */
  lateMessages: Message[];
  /** Committed entries durable before this Ready's write (applied while it runs). */
  durableCount: number;
  prefixApplied: boolean;
  persisted: boolean;
  error: unknown;
  /** A leader's snapshot being installed in slices (AppliedState.beginInstall), and whether it is in. */
  installer?: SnapshotInstaller;
  installed?: boolean;
}

export class ReadyPipeline {
  readonly #options: ReadyPipelineOptions;
  readonly #rawNode: RawNode;
  readonly #log: LogStorage;
  readonly #transport: PeerTransport;
  /** Readys taken and not yet advanced, oldest first. */
  readonly #inflight: InflightReady[] = [];
  readonly #localSnapshots: LocalSnapshots;
  /** The last soft state of a finished Ready: who leads, and our role. */
  #softState: SoftState = { leader: 0, role: "follower" };
  /** The current term, as of the last finished Ready's hard state. */
  #term: number;
  /** Role and term as of the latest Ready taken (softState is as of the latest finished). */
  #takenRole: SoftState["role"] = "follower";
  #takenTerm: number;
  /** Last log index known durable: clamps the commit index of messages sent before our own write. */
  #durableLastIndex: number;
  /** A hard state whose only change was the commit index, not yet written (rides with the next write). */
  #unwrittenHardState: HardState | undefined;
  /** A Ready with a snapshot is in flight: take no other until it is installed. */
  #snapshotInFlight = false;
  #pumpScheduled = false;
  /** A tick came since the last pump: check whether the chain is stalled. */
  #tickedSincePump = false;
  /** Ticks since a Ready last finished while some were in flight (0 when none is in flight). */
  #ticksWithoutProgress = 0;
  #stopped = false;
  #failed = false;
  #idleWaiters: (() => void)[] = [];
  /** For the log line at shutdown: how much batching the pipeline achieved. */
  readonly #counters = { readys: 0, syncs: 0 };

  constructor(options: ReadyPipelineOptions) {
    assert(options.readysInflightMax >= 1, "ready-pipeline: readysInflightMax must be at least 1");
    this.#options = options;
    this.#rawNode = options.rawNode;
    this.#log = options.log;
    this.#transport = options.transport;
    this.#term = options.rawNode.status().term;
    this.#takenTerm = this.#term;
    this.#durableLastIndex = options.log.lastIndex;
    this.#localSnapshots = new LocalSnapshots({
      rawNode: options.rawNode,
      log: options.log,
      snapshots: options.snapshots,
      clock: options.clock,
      state: options.state,
      logger: options.logger,
      snapshotEvery: options.snapshotEvery,
      snapshotIndex: options.snapshotIndex,
      leaderSnapshotPending: () => this.#snapshotInFlight || this.#rawNode.hasPendingSnapshot(),
    });
  }

  /** For the log line at shutdown: how much batching the pipeline achieved, and local snapshots. */
  get counters(): { readys: number; syncs: number; localSnapshots: number; localSnapshotsAbandoned: number } {
    return { ...this.#counters, localSnapshots: this.#localSnapshots.taken, localSnapshotsAbandoned: this.#localSnapshots.abandoned };
  }

  get softState(): SoftState {
    return this.#softState;
  }

  get term(): number {
    return this.#term;
  }

  /** Last log index known durable on this node. */
  get durableLastIndex(): number {
    return this.#durableLastIndex;
  }

  get readysInflight(): number {
    return this.#inflight.length;
  }

  get snapshotIndex(): number {
    return this.#localSnapshots.snapshotIndex;
  }

  /**
   * One tick of the node's clock. Besides the core's timers, a tick notices a stalled chain (no
   * Ready finished for STALLED_AFTER_TICKS ticks) and then releases what waits behind it without
   * depending on a write: held heartbeat responses, and a stable leader's heartbeats. A response
   * rides with its Ready's other messages when the write is quick (one wake-up of the leader instead
   * of two, which under load means larger batches per fsync), and a slow disk never keeps the leader
   * from hearing us for more than a few ticks (CheckQuorum, defect 2).
   */
  tick(): void {
    this.#rawNode.tick();
    this.#tickedSincePump = true;
    this.#ticksWithoutProgress = this.#inflight.length === 0 ? 0 : this.#ticksWithoutProgress + 1;
    this.kick();
  }

  /** Schedules a pump after the inputs already queued, so inputs arriving together share one Ready. */
  kick(): void {
    if (this.#pumpScheduled || this.#stopped) {
      return;
    }
    this.#pumpScheduled = true;
    this.#options.clock.defer(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /** No new Readys; `onIdle` runs once every Ready taken has finished. */
  stop(onIdle: () => void): void {
    this.#stopped = true;
    this.#idleWaiters.push(onIdle);
    this.#maybeIdle();
  }

  /** At shutdown: writes a commit-only hard state that never got a write of its own. */
  flushUnwrittenHardState(done: Done): void {
    const hardState = this.#unwrittenHardState;
    if (hardState === undefined) {
      done();
      return;
    }
    this.#unwrittenHardState = undefined;
    this.#log.append([], hardState, (error) => (error === undefined ? this.#log.sync(done) : done(error)));
  }

  /** Takes every Ready the core has (up to readysInflightMax unfinished) and starts its writes. */
  #pump(): void {
    if (this.#failed) {
      return;
    }
    // Only a stalled chain releases what would otherwise wait for it: releasing at every tick costs
    // the leader extra wake-ups under load (bench:cluster mixed, about 7%) and gains nothing when
    // writes finish within a tick or two.
    const stalled = this.#tickedSincePump && this.#ticksWithoutProgress >= STALLED_AFTER_TICKS;
    this.#tickedSincePump = false;
    const wasIdle = this.#inflight.length === 0;
    let tookEntries = false;
    try {
      if (stalled) {
        this.#releaseHeldHeartbeatResponses();
      }
      this.#options.listener.beforeReady();
      while (!this.#stopped && this.#inflight.length < this.#options.readysInflightMax && !this.#snapshotInFlight && this.#rawNode.hasReady()) {
        const ready = this.#rawNode.ready();
        this.#counters.readys += 1;
        tookEntries ||= ready.entries.length > 0;
        this.#snapshotInFlight = ready.snapshot !== undefined;
        if (ready.snapshot !== undefined) {
          this.#localSnapshots.onLeaderSnapshotTaken();
        }
        const record: InflightReady = { ready, lateMessages: [], durableCount: 0, prefixApplied: false, persisted: false, error: undefined };
        this.#inflight.push(record);
        this.#start(record);
      }
      // A Ready taken into an idle pipeline is its head at once: its committed entries that are
      // durable already apply now, not when its own write completes (#drain runs on completions).
      if (this.#inflight[0]?.prefixApplied === false) {
        this.#drain();
      }
      // A stalled chain releases urgent messages without asking hasReady(): asking would broadcast
      // the appends batched since the last Ready, which should keep batching while it is full.
      if (stalled && !this.#stopped) {
        this.#sendUrgent();
      }
      // A pump into an idle pipeline that took new entries hands what it sent (a leader's appends)
      // to the network now, not after the event loop's next poll, which would first run whatever
      // completed meanwhile, such as this Ready's own WAL write (perf trace at put concurrency 1:
      // about 0.1 ms of a 1 ms put). With Readys in flight the sends wait for the end of the turn
      // instead, so that everything sent in it shares one write per peer: flushing at every pump
      // cost throughput at concurrency 64 in bench:cluster. A Ready without entries (on a leader,
      // the one that commits) is not flushed either: the answers to the clients it applies go out
      // at the end of this callback, and its commit messages after them. Flushed first, those woke
      // both followers before the answer left, and on two cores the answer then waited for a core:
      // 0.2-0.3 ms of a 1.3 ms round at put concurrency 16 (perf trace; fb3da70 answered first).
      if (wasIdle && tookEntries) {
        this.#transport.flush?.();
      }
    } catch (error) {
      this.#fatal(error);
    }
  }

  /**
   * No Ready can be taken now (the pipeline is full, or a snapshot is being installed), but
   * heartbeats and their answers must not wait behind a stalled chain (issue 11, defect 2; etcd
   * sends both at once): a leader that stays leader sends its heartbeats with the commit clamped to
   * what it has synced, and a follower answers heartbeats. Neither depends on a write.
   */
  #sendUrgent(): void {
    const raft = this.#rawNode.raft;
    const stableLeader = raft.role === "leader" && this.#takenRole === "leader" && raft.term === this.#takenTerm;
    const urgent = this.#rawNode.takeMessages((message) => message.type === "heartbeatResp" || (stableLeader && message.type === "heartbeat"));
    for (const message of urgent) {
      if (message.type === "heartbeat") {
        message.commit = Math.min(message.commit, this.#durableLastIndex);
      }
    }
    this.#transport.send(urgent);
  }

  /** Sends the heartbeat responses that wait in unfinished Readys (see tick()). */
  #releaseHeldHeartbeatResponses(): void {
    for (const record of this.#inflight) {
      const held = record.lateMessages.filter((message) => message.type === "heartbeatResp");
      if (held.length > 0) {
        this.#transport.send(held);
        record.lateMessages = record.lateMessages.filter((message) => message.type !== "heartbeatResp");
      }
    }
  }

  /** Sends what may go before the write and starts the write. */
  #start(record: InflightReady): void {
    const { ready } = record;
    // Every earlier Ready finishes first, so all committed entries but this Ready's own are durable
    // by the time this one is at the head.
    record.durableCount = countDurable(ready);
    const [early, late] = this.#splitMessages(ready);
    this.#transport.send(early);
    record.lateMessages = late;
    if (ready.softState !== undefined) {
      this.#takenRole = ready.softState.role;
    }
    const hardState = ready.hardState;
    if (hardState !== undefined) {
      this.#takenTerm = hardState.term;
    }
    const persisted: Done = (error) => {
      record.persisted = true;
      record.error = error;
      this.#drain();
    };
    // UNSAFE vote-not-persisted: a Ready that only changes term and vote is not written before its
    // vote goes out (#splitMessages sends it early); it rides with the next write.
    const voteOnly = this.#options.unsafe?.voteNotPersisted === true && ready.entries.length === 0 && ready.snapshot === undefined;
    if (!(ready.entries.length > 0 || (ready.mustSync && !voteOnly))) {
      if (hardState !== undefined) {
        // Only the commit index moved: it need not be durable (a restarted node relearns it), so
        // it rides along with the next write instead of costing one of its own.
        this.#unwrittenHardState = hardState;
      }
      persisted();
      return;
    }
    const snapshot = ready.snapshot;
    if (snapshot === undefined) {
      this.#write(ready, persisted);
      return;
    }
    // The snapshot file before the marker that names it, and the marker before the entries after it.
    this.#options.snapshots.save(snapshot, (saveError) => {
      if (saveError !== undefined) {
        persisted(saveError);
        return;
      }
      this.#log.markSnapshot({ index: snapshot.metadata.index, term: snapshot.metadata.term }, (markError) =>
        markError === undefined ? this.#write(ready, persisted) : persisted(markError),
      );
    });
  }

  /** Appends the Ready's entries and hard state with one sync. */
  #write(ready: Ready, persisted: Done): void {
    const toWrite = ready.hardState ?? this.#unwrittenHardState;
    this.#unwrittenHardState = undefined;
    let firstError: unknown;
    this.#log.append(ready.entries, toWrite, (error) => {
      firstError ??= error;
    });
    const lastIndex = this.#log.lastIndex;
    const sync = (done: Done): void => (this.#options.unsafe?.ackBeforeFsync === true ? done() : this.#log.sync(done));
    sync((error) => {
      firstError ??= error;
      if (firstError === undefined) {
        this.#counters.syncs += 1;
        this.#durableLastIndex = lastIndex; // syncs complete in call order
      }
      persisted(firstError);
    });
  }

  /** Finishes Readys at the head, in order, as far as their writes allow. */
  #drain(): void {
    try {
      while (!this.#failed) {
        const head = this.#inflight[0];
        if (head === undefined) {
          break;
        }
        if (!head.prefixApplied) {
          // Committed entries already durable here (and on a majority) are applied, and their
          // clients answered, while this Ready's own write is in flight.
          head.prefixApplied = true;
          if (head.durableCount > 0) {
            this.#options.state.applyEntries(head.ready.committedEntries.slice(0, head.durableCount));
            this.#options.listener.onApplied(this.#options.state.applied);
          }
        }
        if (!head.persisted) {
          return;
        }
        if (head.error !== undefined) {
          throw head.error;
        }
        if (head.ready.snapshot !== undefined && head.installed === undefined && this.#options.state.beginInstall !== undefined) {
          this.#installInSlices(head, head.ready.snapshot);
          return;
        }
        this.#inflight.shift();
        this.#ticksWithoutProgress = 0;
        this.#finish(head);
        // Off the ordered chain: later Readys keep finishing while its file is written (defect 2).
        this.#localSnapshots.maybeStart(
          () => this.#maybeIdle(),
          (error) => this.#fatal(error),
        );
      }
    } catch (error) {
      this.#fatal(error);
      return;
    }
    this.#maybeIdle();
    this.kick();
  }

  /**
   * Installs a leader's snapshot one slice per turn of the event loop (issue 11, defect 3). Its
   * Ready stays at the head meanwhile, so no entry applies and no other Ready is taken (it is the
   * only one in flight), but ticks and steps keep pumping: heartbeats are answered (#sendUrgent).
   * The Ready finishes, with its messages and committed entries, once the last slice is in.
   */
  #installInSlices(record: InflightReady, snapshot: NonNullable<Ready["snapshot"]>): void {
    if (record.installer !== undefined) {
      return; // already running: its next slice is deferred
    }
    const installer = this.#options.state.beginInstall?.(snapshot);
    if (installer === undefined) {
      record.installed = false;
      this.#drain();
      return;
    }
    record.installer = installer;
    const started = this.#options.clock.nowMs();
    const timing = { slices: 0, longestSliceMs: 0 };
    const installSlice = (): void => {
      if (this.#failed) {
        return;
      }
      const sliceStarted = this.#options.clock.nowMs();
      let done: boolean;
      try {
        done = installer.step();
      } catch (error) {
        this.#fatal(error);
        return;
      }
      timing.slices += 1;
      timing.longestSliceMs = Math.max(timing.longestSliceMs, this.#options.clock.nowMs() - sliceStarted);
      if (!done) {
        this.#options.clock.defer(installSlice);
        return;
      }
      record.installed = true;
      this.#options.logger.info("restored a snapshot from the leader in slices", {
        index: snapshot.metadata.index,
        ms: Math.round(this.#options.clock.nowMs() - started),
        slices: timing.slices,
        longestSliceMs: Math.round(timing.longestSliceMs),
      });
      this.#drain();
    };
    installSlice();
  }

  #finish(record: InflightReady): void {
    const { ready } = record;
    if (this.#options.unsafe?.applyUncommitted === true) {
      this.#options.state.applyAhead?.(ready.entries); // UNSAFE: durable here, not committed
    }
    this.#transport.send(record.lateMessages);
    if (ready.snapshot !== undefined) {
      if (record.installed !== true) {
        this.#options.state.installSnapshot(ready.snapshot);
      }
      this.#localSnapshots.onInstalled(ready.snapshot.metadata.index);
      this.#options.logger.info("installed a snapshot from the leader", { index: ready.snapshot.metadata.index, term: ready.snapshot.metadata.term });
    }
    this.#options.state.applyEntries(ready.committedEntries.slice(record.durableCount));
    // After applying: a Ready that commits our proposals and also steps us down answers them first.
    this.#onLeadership(ready.softState, ready.hardState?.term);
    for (const readState of ready.readStates) {
      this.#options.listener.onReadState(readState.context, readState.index);
    }
    this.#rawNode.advance(ready);
    if (ready.snapshot !== undefined) {
      // Only the snapshot's own Ready ends the wait: an earlier Ready finishing must not let a
      // later one append after the snapshot before its marker is written (found by the simulator).
      this.#snapshotInFlight = false;
    }
    this.#options.listener.onApplied(this.#options.state.applied);
  }

  /**
   * A leader that stays leader in the same term may send its appends, heartbeats and snapshots
   * before its own write completes (Raft thesis §10.2.1): it counts its own unsynced entries towards
   * commit, so the commit index those messages carry is clamped to what this node has synced;
   * applying and answering clients happen only after the write. Every other message (votes above
   * all) waits for the write.
   */
  #splitMessages(ready: Ready): [Message[], Message[]] {
    const staysLeader =
      this.#takenRole === "leader" &&
      (ready.softState === undefined || ready.softState.role === "leader") &&
      (ready.hardState === undefined || ready.hardState.term === this.#takenTerm);
    if (!staysLeader) {
      // Everything waits for the write; a heartbeat response too, but only until the chain has
      // stalled for two ticks (tick()): it depends on no write, and a slow disk must not make the
      // leader's CheckQuorum give up on us.
      const isEarly = (message: Message): boolean => message.type === "voteResp" && this.#options.unsafe?.voteNotPersisted === true;
      const early = ready.messages.filter(isEarly);
      return early.length === 0 ? [[], ready.messages] : [early, ready.messages.filter((message) => !isEarly(message))];
    }
    const early: Message[] = [];
    const late: Message[] = [];
    for (const message of ready.messages) {
      if (message.type === "app" || message.type === "heartbeat" || message.type === "snap") {
        message.commit = Math.min(message.commit, this.#durableLastIndex);
        early.push(message);
      } else {
        late.push(message);
      }
    }
    return [early, late];
  }

  #onLeadership(softState: SoftState | undefined, term: number | undefined): void {
    const previous = this.#softState;
    const termChanged = term !== undefined && term !== this.#term;
    if (term !== undefined) {
      this.#term = term;
    }
    if (softState === undefined && !termChanged) {
      return;
    }
    if (softState !== undefined) {
      this.#softState = { leader: softState.leader, role: softState.role };
    }
    if (previous.leader !== this.#softState.leader || previous.role !== this.#softState.role) {
      this.#options.logger.info("role changed", { role: this.#softState.role, leader: this.#softState.leader, term: this.#term });
    }
    this.#options.listener.onLeadership(previous, this.#softState, termChanged);
  }

  #maybeIdle(): void {
    if (this.#inflight.length > 0 || this.#localSnapshots.busy || (!this.#stopped && !this.#failed)) {
      return;
    }
    for (const waiter of this.#idleWaiters.splice(0)) {
      waiter();
    }
  }

  #fatal(error: unknown): void {
    if (this.#failed) {
      return;
    }
    this.#failed = true;
    this.#stopped = true;
    this.#options.onFatal(error);
    for (const waiter of this.#idleWaiters.splice(0)) {
      waiter();
    }
  }
}

/** How many of the Ready's committed entries precede its own entries (so are durable when it is at the head). */
function countDurable(ready: Ready): number {
  if (ready.snapshot !== undefined) {
    return 0;
  }
  const firstOwn = ready.entries[0]?.index ?? Infinity;
  let count = 0;
  while (count < ready.committedEntries.length && ready.committedEntries[count]!.index < firstOwn) {
    count += 1;
  }
  return count;
}
