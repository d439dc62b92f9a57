// The node process's event loop around the pure Raft core. Inputs (ticks, peer messages, client
// proposals and reads) go straight into the RawNode; all output is handled in ONE place, the Ready
// pipeline: each Ready's writes start when it is taken (snapshot file, then entries + hard state
// with one fdatasync per Ready: every proposal since the last Ready shares it; the WAL performs
// writes in call order), and Readys finish strictly in order: wait for the write, send messages,
// apply committed entries and answer clients, serve reads, advance. Several Readys may be in
// flight (etcd's asynchronous storage writes), so a leader replicates a new batch while the
// previous batch's fsync is still running.
import type { Plugin } from "../../plugins/api.js";
import { RaftInvariantError } from "../raft/errors.js";
import { RawNode, type Ready, type SoftState } from "../raft/raw-node.js";
import { createRng } from "../raft/rng.js";
import type { ConfState, HardState, Message, Snapshot } from "../raft/messages.js";
import { ClientApi } from "./client-port/client-api.js";
import type { NodeConfig } from "./config/config.js";
import type { FileLog } from "./storage/file-log.js";
import type { Logger } from "./logger.js";
import { ReplicatedState } from "./replicated-state.js";
import { recoverStorage } from "./storage/storage-recovery.js";
import type { SnapshotStore } from "./storage/snapshot-store.js";
import { TcpTransport } from "./transport/tcp-transport.js";
import { Ticker } from "./ticker.js";
import { EntryApplier } from "./entry-applier.js";
import { RequestRouter } from "./client-port/request-router.js";
import { coreUnsafeSwitches, partitionMessages } from "./unsafe-switches.js";
import { createNodeFailpoints, sendThroughFailpoint, setFailpoint } from "./node-failpoints.js";
import type { Failpoints } from "./failpoints.js";
import type { FailpointName } from "../protocol/failpoints.js";
import type { ClientResponse } from "../protocol/client-protocol.js";
import { directFiles, powerLossFiles } from "./storage/files.js";

/** How long the housekeeping timer waits between deadline sweeps. */
const SWEEP_INTERVAL_MS = 50;
/** Readys taken from the core whose writes or completion are still pending. */
const READYS_INFLIGHT_MAX = 8;

export interface NodeServerAddresses {
  peer: string;
  client: string;
}

export class NodeServer {
  readonly config: NodeConfig;
  readonly logger: Logger;
  readonly rawNode: RawNode;
  readonly state: ReplicatedState;
  readonly router: RequestRouter;
  readonly #applier: EntryApplier;
  readonly #fileLog: FileLog;
  readonly #snapshotStore: SnapshotStore;
  readonly #transport: TcpTransport;
  readonly #clientApi: ClientApi;
  readonly #ticker: Ticker;
  /** Present only with --failpoints. */
  readonly #failpoints: Failpoints | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;

  /** The last soft state seen in a Ready: who leads, and our role. */
  softState: SoftState = { leader: 0, role: "follower" };
  /** Last index of the log known to be fsynced (every entry up to it is durable): clamps early commit indexes. */
  #durableLastIndex: number;
  /** A hard state whose only change was the commit index, not yet written (see #handleReady). */
  #unwrittenHardState: HardState | undefined;
  /** The current term, as of the last Ready's hard state. */
  #term: number;
  /** Index of the latest snapshot taken or installed. */
  #snapshotIndex: number;
  #pumpScheduled = false;
  /** Completion of the Readys taken so far, in order. */
  #chain: Promise<void> = Promise.resolve();
  /** Readys taken from the core and not yet advanced. */
  #readysInFlight = 0;
  /** A Ready with a snapshot is in flight: take no other until it is installed. */
  #snapshotInFlight = false;
  /** Messages of each in-flight Ready that wait for its write. */
  readonly #lateMessages = new Map<Ready, Message[]>();
  /** Role and term as of the latest Ready taken (softState is as of the latest finished). */
  #takenRole: SoftState["role"] = "follower";
  #takenTerm: number;
  #stopping = false;
  #failed = false;
  /** For the log line at shutdown: how much batching the Ready pipeline achieved. */
  readonly #counters = { readys: 0, fsyncs: 0 };
  #resolveDone!: (code: number) => void;
  /** Resolves with the process exit code once the node has stopped (shutdown or fatal error). */
  readonly done = new Promise<number>((resolve) => (this.#resolveDone = resolve));
  addresses: NodeServerAddresses | undefined;

  private constructor(init: {
    config: NodeConfig;
    logger: Logger;
    plugin: Plugin;
    fileLog: FileLog;
    snapshotStore: SnapshotStore;
    snapshot: Snapshot | undefined;
    rawNode: RawNode;
    failpoints: Failpoints | undefined;
  }) {
    this.#failpoints = init.failpoints;
    this.config = init.config;
    this.logger = init.logger;
    this.#fileLog = init.fileLog;
    this.#snapshotStore = init.snapshotStore;
    this.rawNode = init.rawNode;
    this.state = new ReplicatedState(init.plugin, init.config.sessionsMax, { snapshotWithoutSessions: init.config.unsafe.has("snapshot-without-sessions") });
    this.#snapshotIndex = init.snapshot?.metadata.index ?? 0;
    this.#term = init.rawNode.status().term;
    this.#takenTerm = this.#term;
    this.#durableLastIndex = init.fileLog.lastIndex;
    this.#transport = new TcpTransport({
      nodeId: this.config.id,
      clusterId: this.config.clusterId,
      listen: this.config.listen,
      peers: new Map([...this.config.peers].filter(([id]) => id !== this.config.id)),
      logger: this.logger.child({ component: "transport" }),
      onMessage: (message: Message) => this.#onPeerMessage(message),
      onUnreachable: (id: number) => this.rawNode.reportUnreachable(id),
      onSnapshotStatus: (id: number, ok: boolean) => this.#onSnapshotStatus(id, ok),
    });
    this.#applier = new EntryApplier({
      server: this,
      transport: this.#transport,
      initialConfState: init.snapshot?.metadata.confState ?? { voters: [] },
    });
    if (init.snapshot !== undefined) {
      this.#applier.installSnapshot(init.snapshot);
    }
    this.router = new RequestRouter(this);
    this.#clientApi = new ClientApi({ listen: this.config.clientListen, handler: this.router, logger: this.logger.child({ component: "client-api" }) });
    this.#ticker = new Ticker({ intervalMs: this.config.tickMs, onTick: () => this.#onTick() });
  }

  /** Recovers storage, builds the core and opens both ports. Throws StorageError on a corrupt WAL. */
  static async start(config: NodeConfig, plugin: Plugin, logger: Logger): Promise<NodeServer> {
    const failpoints = config.failpoints ? createNodeFailpoints(logger) : undefined;
    const recovered = await recoverStorage({
      dataDir: config.dataDir,
      bootstrapVoters: config.join ? undefined : [...config.peers.keys()],
      logger,
      files: config.simulatePowerLoss ? powerLossFiles : directFiles,
      ...(failpoints === undefined ? {} : { failpoints }),
    });
    const rawNode = new RawNode(
      {
        id: config.id,
        electionTick: config.electionTicks,
        heartbeatTick: config.heartbeatTicks,
        preVote: true,
        checkQuorum: true,
        maxSizePerMsg: 1024 * 1024,
        maxEntriesPerMsg: 4096,
        maxInflightMsgs: 256,
        maxUncommittedEntriesSize: 64 * 1024 * 1024,
        rng: createRng((config.id * 2654435761 + Date.now()) >>> 0),
        ...coreUnsafeSwitches(config.unsafe),
      },
      recovered.initial,
    );
    const server = new NodeServer({ config, logger, plugin, rawNode, failpoints, ...recovered });
    await server.#open();
    return server;
  }

  async #open(): Promise<void> {
    await this.#transport.start();
    const peer = this.#transport.listenAddress;
    const client = await this.#clientApi.start();
    this.addresses = { peer, client };
    this.#ticker.start();
    this.#sweepTimer = setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
    this.logger.info("node started", {
      peerAddress: peer,
      clientAddress: client,
      plugin: this.state.plugin.name,
      join: this.config.join,
      unsafe: [...this.config.unsafe],
      ...this.rawNode.status(),
    });
    this.kick();
  }

  get applied(): number {
    return this.#applier.applied;
  }

  get confState(): ConfState {
    return this.#applier.confState;
  }

  get isLeader(): boolean {
    return this.softState.role === "leader";
  }

  get fileLog(): FileLog {
    return this.#fileLog;
  }

  /** Schedules a pump of Readys after the current I/O phase, so inputs arriving together share one. */
  kick(): void {
    if (this.#pumpScheduled || this.#stopping) {
      return;
    }
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #onTick(): void {
    this.rawNode.tick();
    this.kick();
  }

  #onPeerMessage(message: Message): void {
    try {
      this.rawNode.step(message);
    } catch (error) {
      if (error instanceof RaftInvariantError) {
        // A broken core invariant is a bug, not a bad message: stop, as etcd panics.
        this.#fatal(error);
        return;
      }
      this.logger.warn("dropped a peer message the core refused", { type: message.type, from: message.from, error });
      return;
    }
    this.kick();
  }

  #sweep(): void {
    this.router.sweep(performance.now());
  }

  /**
   * Takes every Ready the core has (up to READYS_INFLIGHT_MAX not yet finished), starts each one's
   * writes at once (the WAL performs them in call order) and chains its completion after the
   * previous one's, so Readys finish, and are advanced, strictly in order.
   */
  #pump(): void {
    try {
      this.router.flushReads();
      while (!this.#stopping && this.#readysInFlight < READYS_INFLIGHT_MAX && !this.#snapshotInFlight && this.rawNode.hasReady()) {
        const ready = this.rawNode.ready();
        this.#counters.readys += 1;
        this.#readysInFlight += 1;
        this.#snapshotInFlight = ready.snapshot !== undefined;
        const persisted = this.#startReady(ready);
        persisted.catch(() => undefined); // awaited (and reported) in order by the chain
        this.#chain = this.#chain.then(() => this.#finishReady(ready, persisted));
      }
    } catch (error) {
      this.#fatal(error);
    }
  }

  /** Sends what may go before the write, starts the write; resolves once this Ready is durable. */
  #startReady(ready: Ready): Promise<void> {
    const [early, late] = this.#splitLeaderMessages(ready);
    this.#send(early);
    this.#lateMessages.set(ready, late);
    if (ready.softState !== undefined) {
      this.#takenRole = ready.softState.role;
    }
    const snapshot = ready.snapshot;
    const snapshotSaved = snapshot === undefined ? undefined : this.#snapshotStore.save(snapshot);
    snapshotSaved?.catch(() => undefined);
    const hardState = ready.hardState;
    if (hardState !== undefined) {
      this.#takenTerm = hardState.term;
    }
    // UNSAFE vote-not-persisted: a Ready that only changes term and vote is not written before its
    // vote goes out (#splitLeaderMessages sends it early), so a crash forgets the vote.
    const mustSync = ready.mustSync && !(this.config.unsafe.has("vote-not-persisted") && ready.entries.length === 0 && snapshot === undefined);
    if (!(ready.entries.length > 0 || mustSync)) {
      if (hardState !== undefined) {
        // Only the commit index moved: it need not be durable (a restarted node relearns it), so
        // it rides along with the next write instead of costing one of its own.
        this.#unwrittenHardState = hardState;
      }
      return Promise.resolve();
    }
    const written = (async (): Promise<void> => {
      if (snapshot !== undefined) {
        await snapshotSaved; // the snapshot file before the WAL marker that names it
        await this.#fileLog.markSnapshot({ index: snapshot.metadata.index, term: snapshot.metadata.term });
      }
      const toWrite = hardState ?? this.#unwrittenHardState;
      this.#unwrittenHardState = undefined;
      const appended = this.#fileLog.append(ready.entries, toWrite);
      const lastIndex = this.#fileLog.lastIndex;
      // UNSAFE ack-before-fsync (etcd's --unsafe-no-fsync): acknowledge once the data is written.
      await Promise.all([appended, this.config.unsafe.has("ack-before-fsync") ? undefined : this.#fileLog.sync()]);
      this.#counters.fsyncs += 1;
      this.#durableLastIndex = lastIndex; // syncs complete in call order
    })();
    return written;
  }

  /** Runs in Ready order: apply what is durable, wait for this Ready's write, send, apply, advance. */
  async #finishReady(ready: Ready, persisted: Promise<void>): Promise<void> {
    if (this.#failed) {
      return;
    }
    try {
      // Committed entries already durable here (and on a majority) are applied, and their clients
      // answered, while this Ready's own write is in flight.
      const durableCount = this.#countDurable(ready);
      if (durableCount > 0) {
        this.#applier.applyEntries(ready.committedEntries.slice(0, durableCount));
        this.router.onApplied(this.applied);
      }
      await persisted;
      if (this.config.unsafe.has("apply-uncommitted")) {
        this.#applier.applyAhead(ready.entries); // UNSAFE: durable here, but not committed
      }
      this.#send(this.#lateMessages.get(ready) ?? []);
      this.#lateMessages.delete(ready);
      await this.#failpoints?.hit(ready.snapshot === undefined ? "beforeApply" : "beforeSnapshotInstall");
      if (ready.snapshot !== undefined) {
        this.#applier.installSnapshot(ready.snapshot);
        await this.#failpoints?.hit("afterSnapshotInstall");
        this.#snapshotIndex = Math.max(this.#snapshotIndex, ready.snapshot.metadata.index);
        this.logger.info("installed a snapshot from the leader", { index: ready.snapshot.metadata.index, term: ready.snapshot.metadata.term });
      }
      this.#applier.applyEntries(durableCount > 0 ? ready.committedEntries.slice(durableCount) : ready.committedEntries);
      // After applying: a Ready that commits our proposals and also steps us down answers them first.
      this.#onLeadership(ready.softState, ready.hardState?.term);
      for (const readState of ready.readStates) {
        this.router.onReadState(readState.context, readState.index);
      }
      this.rawNode.advance(ready);
      this.#readysInFlight -= 1;
      this.#snapshotInFlight = false;
      this.router.onApplied(this.applied);
      await this.#maybeSnapshot();
      this.kick();
    } catch (error) {
      this.#fatal(error);
    }
  }

  /**
   * How many of the Ready's committed entries are durable already: every earlier Ready has
   * finished, so all but this Ready's own entries are.
   */
  #countDurable(ready: Ready): number {
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

  /**
   * A leader that stays leader in the same term may send its appends, heartbeats and snapshots
   * before its own write completes (Raft thesis §10.2.1): it counts its own unsynced entries towards
   * commit, so the commit index those messages carry is clamped to what this node has fsynced;
   * applying and answering clients happen only after the write. Every other message (votes above
   * all) waits for the write.
   */
  #splitLeaderMessages(ready: Ready): [Message[], Message[]] {
    const staysLeader =
      this.#takenRole === "leader" &&
      (ready.softState === undefined || ready.softState.role === "leader") &&
      (ready.hardState === undefined || ready.hardState.term === this.#takenTerm);
    if (!staysLeader) {
      return this.config.unsafe.has("vote-not-persisted") ? partitionMessages(ready.messages, (m) => m.type === "voteResp") : [[], ready.messages];
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

  #send(messages: Message[]): void {
    if (this.#failpoints === undefined || messages.length === 0) {
      this.#transport.send(messages);
      return;
    }
    sendThroughFailpoint(this.#failpoints, messages, (batch) => this.#transport.send(batch));
  }

  /** The client port's `failpoint` request: refused unless the node runs with --failpoints. */
  setFailpoint(request: { id: number; name: FailpointName; action: string }): ClientResponse {
    return setFailpoint(this.#failpoints, this.logger, request);
  }

  #onLeadership(softState: SoftState | undefined, term: number | undefined): void {
    const previous = this.softState;
    const termChanged = term !== undefined && term !== this.#term;
    if (term !== undefined) {
      this.#term = term;
    }
    if (softState === undefined && !termChanged) {
      return;
    }
    if (softState !== undefined) {
      this.softState = { leader: softState.leader, role: softState.role };
    }
    if (previous.leader !== this.softState.leader || previous.role !== this.softState.role) {
      this.logger.info("role changed", { role: this.softState.role, leader: this.softState.leader, term: this.#term });
    }
    this.router.onLeadership(previous, this.softState, termChanged);
  }

  /**
   * The transport reports each snap message once it is written out whole (a large one streams in
   * chunks for a while) or could not be: on failure the core probes again and resends it.
   */
  #onSnapshotStatus(peerId: number, ok: boolean): void {
    this.rawNode.reportSnapshot(peerId, ok);
    this.kick();
  }

  /** Every snapshotEvery applied entries: save the state, then compact the core's log and the WAL. */
  async #maybeSnapshot(): Promise<void> {
    const applied = this.#applier.applied;
    if (applied - this.#snapshotIndex < this.config.snapshotEvery) {
      return;
    }
    const data = this.state.snapshotData();
    const snapshot: Snapshot = {
      metadata: { index: applied, term: this.#applier.appliedTerm, confState: { voters: [...this.confState.voters] } },
      data,
    };
    const started = performance.now();
    await this.#snapshotStore.save(snapshot);
    await this.#fileLog.markSnapshot({ index: applied, term: snapshot.metadata.term });
    await this.#fileLog.sync();
    this.rawNode.compact(applied, data);
    await this.#fileLog.compact(applied);
    this.#snapshotIndex = applied;
    this.logger.info("took a snapshot and compacted the log", {
      index: applied,
      bytes: data.length,
      ms: Math.round(performance.now() - started),
    });
  }

  /** Graceful stop: no new requests, finish the current Ready, close the WAL. */
  async shutdown(reason: string): Promise<void> {
    if (this.#stopping) {
      return;
    }
    this.logger.info("shutting down", { reason });
    this.#stopping = true;
    this.#ticker.stop();
    clearInterval(this.#sweepTimer);
    this.#clientApi.stopAccepting();
    await this.#chain;
    this.router.failAll("SHUTTING_DOWN", "the node is shutting down");
    if (this.#unwrittenHardState !== undefined) {
      await this.#fileLog.append([], this.#unwrittenHardState);
      await this.#fileLog.sync();
    }
    await this.#clientApi.close();
    await this.#transport.close();
    await this.#fileLog.close();
    this.logger.info("stopped", { ...this.#counters, applied: this.applied, transport: this.#transport.stats() });
    this.#resolveDone(0);
  }

  #fatal(error: unknown): void {
    if (this.#failed) {
      return;
    }
    this.#failed = true;
    this.logger.error("fatal error (a broken invariant or a failed write); stopping", { error, stack: (error as Error).stack });
    this.#fail(1);
  }

  #fail(code: number): void {
    this.#stopping = true;
    this.#ticker.stop();
    clearInterval(this.#sweepTimer);
    this.#resolveDone(code);
  }

}
