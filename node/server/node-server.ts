// The node process: the real ports around the Ready pipeline (node/driver/ready-pipeline.ts) and
// the process lifecycle. Inputs (ticks, peer messages, client proposals and reads) go straight into
// the RawNode and kick the pipeline, which decides when messages leave, when writes are durable and
// when entries apply; the simulator runs the same pipeline over memory ports. The server owns the
// WAL, the snapshot files, the TCP transport, the client port, the ticker and the shutdown.
import type { Plugin } from "../../plugins/api.js";
import { InvariantError } from "../../lib/assert.js";
import { ReadyPipeline } from "../driver/ready-pipeline.js";
import { RawNode, type SoftState } from "../raft/raw-node.js";
import { SeededRng } from "../../lib/rng.js";
import type { ConfState, Message, Snapshot } from "../raft/messages.js";
import { ClientApi } from "./client-port/client-api.js";
import type { NodeConfig } from "./config/config.js";
import { eventLoopClock, FileLogStorage, FileSnapshotStorage, TransportPort } from "./driver-ports.js";
import type { FileLog } from "./storage/file-log.js";
import type { Logger } from "../../lib/logger.js";
import { ReplicatedState } from "./replicated-state.js";
import { recoverStorage } from "./storage/storage-recovery.js";
import type { SnapshotStore } from "./storage/snapshot-store.js";
import { TcpTransport } from "./transport/tcp-transport.js";
import { Ticker } from "./ticker.js";
import { EntryApplier } from "./entry-applier.js";
import { RequestRouter } from "./client-port/request-router.js";
import { coreUnsafeSwitches, pipelineUnsafeSwitches } from "./unsafe-switches.js";
import { createNodeFailpoints, failpointTransport, setFailpoint } from "./node-failpoints.js";
import { FailpointError, type Failpoints } from "./failpoints.js";
import type { FailpointName } from "../protocol/failpoints.js";
import type { ClientResponse } from "../protocol/client-protocol.js";
import { directFiles, powerLossFiles } from "./storage/files.js";
import { ConnectionBudget } from "./connection-budget.js";
import { PluginContractError } from "./plugin-contract.js";
import { RateLimitedLog } from "./rate-limited-log.js";
import { nodeRaftLimits } from "./raft-limits.js";

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
  readonly #pipeline: ReadyPipeline;
  readonly #fileLog: FileLog;
  readonly #transport: TcpTransport;
  readonly #clientApi: ClientApi;
  readonly #ticker: Ticker;
  /** Present only with --failpoints. */
  readonly #failpoints: Failpoints | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #stopping = false;
  #failed = false;
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
    this.rawNode = init.rawNode;
    const pluginLog = new RateLimitedLog({ logger: this.logger });
    this.state = new ReplicatedState(
      init.plugin,
      init.config.sessionsMax,
      (message) => pluginLog.warn("plugin contract", `plugin contract violated: ${message}`, { plugin: init.plugin.name }),
      { snapshotWithoutSessions: init.config.unsafe.has("snapshot-without-sessions") },
    );
    const connectionBudget = ConnectionBudget.forProcess(this.config.peers.size);
    this.#transport = new TcpTransport({
      secret: this.config.secret,
      connectionBudget,
      nodeId: this.config.id,
      clusterId: this.config.clusterId,
      listen: this.config.listen,
      peers: new Map([...this.config.peers].filter(([id]) => id !== this.config.id)),
      logger: this.logger.child({ component: "transport" }),
      onMessage: (message: Message) => this.#onPeerMessage(message),
      onUnreachable: (id: number) => this.rawNode.reportUnreachable(id),
      onSnapshotStatus: (id: number, ok: boolean) => this.#onSnapshotStatus(id, ok),
      // Well past an election timeout: heartbeats answer far more often than that.
      silentPeerMs: Math.max(1000, 2 * this.config.electionTicks * this.config.tickMs),
    });
    this.#applier = new EntryApplier({
      selfId: this.config.id,
      state: this.state,
      applyConfChange: (change) => this.rawNode.applyConfChange(change),
      peers: this.#transport,
      flagPeerAddress: (id) => this.config.peers.get(id),
      results: {
        onCommandApplied: (requestId, outcome) => this.router.onCommandApplied(requestId, outcome),
        onConfChangeApplied: (requestId, confState) => this.router.onConfChangeApplied(requestId, confState),
      },
      logger: this.logger,
      initialConfState: init.snapshot?.metadata.confState ?? { voters: [] },
      failpoints: init.failpoints,
    });
    if (init.snapshot !== undefined) {
      this.#applier.installSnapshot(init.snapshot);
    }
    this.router = new RequestRouter(this);
    this.#pipeline = new ReadyPipeline({
      rawNode: this.rawNode,
      log: new FileLogStorage(init.fileLog),
      snapshots: new FileSnapshotStorage(init.snapshotStore),
      transport: new TransportPort(failpointTransport(this.#failpoints, this.#transport)),
      clock: eventLoopClock,
      state: this.#applier,
      listener: {
        beforeReady: () => this.router.flushReads(),
        onApplied: (applied) => this.router.onApplied(applied),
        onReadState: (context, index) => this.router.onReadState(context, index),
        onLeadership: (previous, next, termChanged) => this.router.onLeadership(previous, next, termChanged),
      },
      logger: this.logger,
      readysInflightMax: READYS_INFLIGHT_MAX,
      snapshotEvery: this.config.snapshotEvery,
      snapshotIndex: init.snapshot?.metadata.index ?? 0,
      onFatal: (error) => this.#fatal(error),
      unsafe: pipelineUnsafeSwitches(this.config.unsafe),
    });
    this.#clientApi = new ClientApi({
      listen: this.config.clientListen,
      handler: this.router,
      logger: this.logger.child({ component: "client-api" }),
      secret: this.config.secret,
      connectionBudget,
    });
    this.#ticker = new Ticker({ intervalMs: this.config.tickMs, onTick: () => this.#onTick() });
  }

  /** Recovers storage, builds the core and opens both ports. Throws StorageError on a corrupt WAL. */
  static async start(config: NodeConfig, plugin: Plugin, logger: Logger): Promise<NodeServer> {
    const failpoints = config.failpoints ? createNodeFailpoints(logger) : undefined;
    const recovered = await recoverStorage({
      dataDir: config.dataDir,
      bootstrapVoters: config.join ? undefined : [...config.peers.keys()],
      initialClusterState: config.initialClusterState,
      logger,
      files: config.simulatePowerLoss ? powerLossFiles : directFiles,
      ...(failpoints === undefined ? {} : { failpoints }),
    });
    const rawNode = new RawNode(
      {
        id: config.id,
        electionTicks: config.electionTicks,
        heartbeatTicks: config.heartbeatTicks,
        ...nodeRaftLimits,
        rng: new SeededRng((config.id * 2654435761 + Date.now()) >>> 0),
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

  /** Role and leader as this node acts on them: as of the last finished Ready. */
  get softState(): SoftState {
    return this.#pipeline.softState;
  }

  get isLeader(): boolean {
    return this.softState.role === "leader";
  }

  /** When the last message from a peer arrived (performance.now()), for the reconfiguration check. */
  peerLastHeardMs(peerId: number): number | undefined {
    return this.#transport.lastHeardMs(peerId);
  }

  get fileLog(): FileLog {
    return this.#fileLog;
  }

  /** Schedules a pump of Readys after the current I/O phase, so inputs arriving together share one. */
  kick(): void {
    if (!this.#stopping) {
      this.#pipeline.kick();
    }
  }

  #onTick(): void {
    if (this.#stopping) {
      this.rawNode.tick();
      return;
    }
    this.#pipeline.tick();
  }

  #onPeerMessage(message: Message): void {
    try {
      this.rawNode.step(message);
    } catch (error) {
      if (error instanceof InvariantError) {
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

  /** The client port's `failpoint` request: refused unless the node runs with --failpoints. */
  refuseProposal(): boolean {
    try {
      this.#failpoints?.hitSync("beforePropose");
      return false;
    } catch (failure) {
      if (failure instanceof FailpointError) {
        return true;
      }
      throw failure;
    }
  }

  setFailpoint(request: { id: number; name: FailpointName; action: string }): ClientResponse {
    return setFailpoint(this.#failpoints, this.logger, request);
  }

  /**
   * The transport reports each snap message once it is written out whole (a large one streams in
   * chunks for a while) or could not be: on failure the core probes again and resends it.
   */
  #onSnapshotStatus(peerId: number, ok: boolean): void {
    this.rawNode.reportSnapshot(peerId, ok);
    this.kick();
  }

  /** Graceful stop: no new requests, finish the Readys taken, close the WAL. */
  async shutdown(reason: string): Promise<void> {
    if (this.#stopping) {
      return;
    }
    this.logger.info("shutting down", { reason });
    this.#stopping = true;
    this.#ticker.stop();
    clearInterval(this.#sweepTimer);
    this.#clientApi.stopAccepting();
    await new Promise<void>((resolve) => this.#pipeline.stop(resolve));
    this.router.failAll("SHUTTING_DOWN", "the node is shutting down");
    if (!this.#failed) {
      await new Promise<void>((resolve, reject) => this.#pipeline.flushUnwrittenHardState((error) => (error === undefined ? resolve() : reject(error))));
    }
    await this.#clientApi.close();
    await this.#transport.close();
    await this.#fileLog.close();
    this.logger.info("stopped", {
      ...this.#pipeline.counters,
      syncRounds: this.#fileLog.syncRounds,
      applied: this.applied,
      transport: this.#transport.stats(),
    });
    this.#resolveDone(0);
  }

  #fatal(error: unknown): void {
    if (this.#failed) {
      return;
    }
    this.#failed = true;
    if (error instanceof PluginContractError) {
      // Not the node's fault: say whose it is. Nothing of the bad answer was written.
      this.logger.error(`plugin contract violated; stopping: ${error.message}`, { plugin: this.state.plugin.name, code: error.code });
    } else {
      this.logger.error("fatal error (a broken invariant or a failed write); stopping", { error, stack: (error as Error).stack });
    }
    this.#stopping = true;
    this.#ticker.stop();
    clearInterval(this.#sweepTimer);
    this.#resolveDone(1);
  }
}
