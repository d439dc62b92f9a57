// A simulated cluster on a virtual clock: RawNodes driven by the node's real Ready pipeline
// (node/driver) over memory disks and the seeded network, per-node ticks, and faults the swarm
// draws from its seed: disk latency and stalls per node (a write or sync can take several election
// timeouts), event-loop stalls (a node handles nothing, timers included, for a while), crashes that
// lose unsynced writes or tear the last one. Invariants run after every event.
import { silentLogger } from "../../lib/logger.js";
import type { ConfChange, ConfState, Entry, Message, NodeId } from "../raft/messages.js";
import { RawNode } from "../raft/raw-node.js";
import type { RaftConfig } from "../raft/raft.js";
import { SeededRng } from "../../lib/rng.js";
import { ProposalDroppedError } from "../raft/errors.js";
import { decodeConfChange } from "../raft/conf-change-codec.js";
import { contextKey } from "../raft/read-only.js";
import type { DiskScheduler } from "../driver/memory-ports.js";
import { ReadyPipeline } from "../driver/ready-pipeline.js";
import { EventQueue } from "./event-queue.js";
import { Network, RELIABLE } from "./network.js";
import { SimNode, hashBytes } from "./sim-node.js";
import { CheckedLog, SimAppliedState } from "./sim-ports.js";
import { parseSessionCommand, SessionChecks } from "./sessions.js";
import { InvariantViolation, Invariants } from "./invariants.js";
import { Trace } from "./trace.js";
import type { SimClusterOptions, StallOptions } from "./cluster-options.js";

type SimEvent =
  | { kind: "tick"; node: NodeId; incarnation: number }
  | { kind: "deliver"; message: Message }
  | { kind: "disk"; node: NodeId; incarnation: number; complete: () => void }
  | { kind: "pump"; node: NodeId; incarnation: number; run: () => void }
  | { kind: "action"; node: NodeId; label: string; run: () => void };

export class SimCluster {
  now = 0;
  steps = 0;
  readonly rng: SeededRng;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly network: Network;
  readonly invariants = new Invariants();
  /** Exactly-once session commands and snapshots equal to the committed prefix (sessions.ts). */
  readonly sessions = new SessionChecks();
  readonly trace: Trace;
  readonly queue = new EventQueue<SimEvent>();
  readonly options: SimClusterOptions;
  readonly tickUnits: number;
  /** Probability of a torn write per completed log write; the liveness phase sets it to 0. */
  crashDuringWriteRate: number;
  /** Disk and event-loop stalls; the liveness phase switches them off. */
  diskStall: StallOptions | undefined;
  loopStall: StallOptions | undefined;
  /** Commands each node applied, by log index (re-applying after a restart writes the same slots). */
  readonly appliedCommands = new Map<NodeId, Map<number, string>>();
  /** Elections won (a node became leader), for the stability property. */
  leaderChanges = 0;
  #readSequence = 0;
  /** The configuration of the highest conf change any node applied: the cluster's current membership. */
  #latestConfiguration: { index: number; voters: NodeId[] };
  /** Per node: the voters before the last conf change it applied (apply-time configurations overlap by one change). */
  readonly #previousVoters = new Map<NodeId, NodeId[]>();
  /** Per node: until when its event loop is blocked. */
  readonly #stalledUntil = new Map<NodeId, number>();

  constructor(options: SimClusterOptions) {
    this.options = options;
    this.rng = new SeededRng(options.seed);
    this.network = new Network(options.network ?? RELIABLE, new SeededRng((options.seed ^ 0x5bd1e995) >>> 0));
    this.trace = new Trace(50, options.traceAll ?? false);
    this.tickUnits = options.tickUnits ?? 10;
    this.crashDuringWriteRate = options.crashDuringWriteRate ?? 0;
    this.diskStall = options.diskStall;
    this.loopStall = options.loopStall;
    const voters = options.bootstrapVoters ?? options.ids;
    this.#latestConfiguration = { index: 0, voters: [...voters] };
    for (const id of options.ids) {
      // Every node knows the initial configuration (like etcd's --initial-cluster); nodes outside
      // it are not promotable until a conf change adds them.
      this.nodes.set(id, new SimNode(id, voters, this.#disk(id)));
      this.appliedCommands.set(id, new Map());
      this.#start(id);
    }
  }

  /** The commands a node applied itself (not those covered by an installed snapshot), in log order. */
  commandsOf(id: NodeId): string[] {
    return [...(this.appliedCommands.get(id) ?? new Map<number, string>())].sort((a, b) => a[0] - b[0]).map(([, command]) => command);
  }

  node(id: NodeId): SimNode {
    const node = this.nodes.get(id);
    if (node === undefined) {
      throw new Error(`cluster: no node ${id}`);
    }
    return node;
  }

  raw(id: NodeId): RawNode {
    const raw = this.node(id).raw;
    if (raw === undefined) {
      throw new Error(`cluster: node ${id} is crashed`);
    }
    return raw;
  }

  raftConfig(id: NodeId, incarnation: number): RaftConfig {
    return {
      id,
      electionTicks: 10,
      heartbeatTicks: 1,
      preVote: true,
      checkQuorum: true,
      maxMessageBytes: 64 * 1024,
      maxEntriesPerMessage: 64,
      maxInflightMessages: 8,
      maxUncommittedEntryBytes: 1 << 30,
      ...this.options.raft,
      rng: new SeededRng((this.options.seed * 7919 + id * 104729 + incarnation * 31) >>> 0),
    };
  }

  /** A node's disk: log writes complete in order, each snapshot file on its own, after latency and stalls. */
  #disk(id: NodeId): DiskScheduler {
    let logFreeAt = 0;
    return {
      submit: (queue, complete) => {
        const node = this.nodes.get(id);
        const incarnation = node?.incarnation ?? 0;
        let latency = this.options.diskLatencyMax === undefined || this.options.diskLatencyMax === 0 ? 0 : this.rng.int(this.options.diskLatencyMax + 1);
        const stall = this.diskStall;
        if (stall !== undefined && stall.rate > 0 && this.rng.next() < stall.rate) {
          latency += 1 + this.rng.int(stall.maxUnits);
          this.trace.record(this.now, "disk-stall", id, undefined, `${queue} +${latency}`);
        }
        let at = this.now + latency;
        if (queue === "log") {
          at = Math.max(at, logFreeAt);
          logFreeAt = at;
        }
        this.queue.push(at, { kind: "disk", node: id, incarnation, complete });
      },
    };
  }

  #start(id: NodeId): void {
    const node = this.node(id);
    node.recoverMachine();
    if (node.machine.index > 0) {
      this.sessions.onRestored(id, node.machine, "restarted from");
    }
    const raw = new RawNode(this.raftConfig(id, node.incarnation), node.initialState());
    node.raw = raw;
    node.log.onDurableDiscard = (discarded, coveredUpTo) => this.invariants.checkDiscard(node, discarded, coveredUpTo);
    const incarnation = node.incarnation;
    const snapshot = node.markedSnapshot();
    node.pipeline = new ReadyPipeline({
      rawNode: raw,
      log: new CheckedLog(node.log, (entries) => this.invariants.checkNewEntries(id, raw, entries)),
      snapshots: node.snapshots,
      transport: { send: (messages) => this.#send(id, raw, messages) },
      clock: {
        nowMs: () => this.now,
        defer: (run) => this.queue.push(this.now, { kind: "pump", node: id, incarnation, run }),
      },
      state: new SimAppliedState(this, node, raw, snapshot),
      unsafe: { voteNotPersisted: this.options.unsafeVoteNotPersisted === true },
      listener: {
        beforeReady: () => undefined,
        onApplied: () => undefined,
        onReadState: (context, index) => this.invariants.onReadState(id, contextKey(context), index),
        onLeadership: (_previous, next) => {
          if (next.role === "leader") {
            this.leaderChanges += 1;
          }
        },
      },
      logger: { ...silentLogger, info: (message, fields) => this.trace.record(this.now, "log", id, undefined, `${message} ${JSON.stringify(fields ?? {})}`) },
      readysInflightMax: this.options.pipelineDepth ?? 1,
      snapshotEvery: this.options.snapshotEvery === undefined || this.options.snapshotEvery <= 0 ? Number.MAX_SAFE_INTEGER : this.options.snapshotEvery,
      snapshotIndex: snapshot?.metadata.index ?? 0,
      onFatal: (error) => {
        throw new InvariantViolation("node-stopped", `node ${id} stopped: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      },
    });
    this.trace.record(this.now, "start", id, undefined, `incarnation ${node.incarnation}`);
    // Stagger the first tick so nodes do not tick in lockstep.
    this.queue.push(this.now + 1 + this.rng.int(this.tickUnits), { kind: "tick", node: id, incarnation: node.incarnation });
    node.pipeline.kick();
  }

  /** Crashes a node: its disk keeps what was synced and a prefix of the rest (the last write torn when `tear`). */
  crash(id: NodeId, tear = false): void {
    const node = this.node(id);
    if (!node.alive) {
      return;
    }
    node.crash(this.rng, tear);
    this.#stalledUntil.delete(id);
    this.trace.record(this.now, tear ? "torn-crash" : "crash", id);
  }

  restart(id: NodeId): void {
    const node = this.node(id);
    if (node.alive) {
      return;
    }
    this.#start(id);
  }

  /** Adds a new, empty node that is not a voter yet (it joins through a conf change). */
  addEmptyNode(id: NodeId): void {
    this.nodes.set(id, new SimNode(id, [], this.#disk(id)));
    this.appliedCommands.set(id, new Map());
    this.#start(id);
  }

  schedule(delay: number, node: NodeId, label: string, run: () => void): void {
    this.queue.push(this.now + delay, { kind: "action", node, label, run });
  }

  /** Proposes a command at a node; false when the core dropped it. */
  propose(id: NodeId, command: string): boolean {
    const node = this.node(id);
    if (node.raw === undefined) {
      return false;
    }
    try {
      node.raw.propose(new TextEncoder().encode(command));
    } catch (error) {
      if (error instanceof ProposalDroppedError) {
        return false;
      }
      throw error;
    }
    this.trace.record(this.now, "propose", id, undefined, command);
    node.pipeline?.kick();
    return true;
  }

  proposeConfChange(id: NodeId, change: ConfChange): boolean {
    try {
      this.raw(id).proposeConfChange(change);
    } catch (error) {
      if (error instanceof ProposalDroppedError) {
        return false;
      }
      throw error;
    }
    this.node(id).pipeline?.kick();
    return true;
  }

  /** Starts a ReadIndex at a node; returns the context whose read state will come back. */
  readIndex(id: NodeId): string {
    const context = new TextEncoder().encode(`read-${id}-${++this.#readSequence}`);
    const key = contextKey(context);
    this.invariants.onReadRequested(key);
    this.raw(id).readIndex(context);
    this.node(id).pipeline?.kick();
    return key;
  }

  transferLeader(id: NodeId, to: NodeId): void {
    this.raw(id).transferLeader(to);
    this.trace.record(this.now, "transfer", id, undefined, `to ${to}`);
    this.node(id).pipeline?.kick();
  }

  campaign(id: NodeId): void {
    this.raw(id).campaign();
    this.node(id).pipeline?.kick();
  }

  /** Voters of the newest configuration applied anywhere. */
  currentVoters(): NodeId[] {
    return [...this.#latestConfiguration.voters];
  }

  /** The leader with the highest term among live nodes, if any. */
  leader(): NodeId | undefined {
    let best: NodeId | undefined;
    let bestTerm = -1;
    for (const node of this.nodes.values()) {
      const r = node.raw?.raft;
      if (r !== undefined && r.role === "leader" && r.term > bestTerm) {
        best = node.id;
        bestTerm = r.term;
      }
    }
    return best;
  }

  /** Processes the next event; false when nothing is scheduled. */
  step(): boolean {
    const next = this.queue.pop();
    if (next === undefined) {
      return false;
    }
    this.now = next.time;
    this.steps++;
    const event = next.item;
    if (event.kind !== "action") {
      // A blocked event loop handles nothing until it resumes: the event waits.
      const target = event.kind === "deliver" ? event.message.to : event.node;
      const until = this.#stalledUntil.get(target);
      if (until !== undefined && until > this.now) {
        this.queue.push(until, event);
        return true;
      }
    }
    switch (event.kind) {
      case "tick":
        this.#onTick(event.node, event.incarnation);
        return true;
      case "deliver":
        this.#onDeliver(event.message);
        return true;
      case "disk":
      case "pump":
        this.#onNodeEvent(event.node, event.incarnation, event.kind === "disk" ? event.complete : event.run, event.kind === "disk");
        return true;
      case "action":
        this.trace.record(this.now, "action", event.node, undefined, event.label);
        event.run();
        for (const id of this.nodes.keys()) {
          this.#check(id);
        }
        return true;
    }
  }

  runFor(duration: number): void {
    const end = this.now + duration;
    while ((this.queue.peekTime() ?? Infinity) <= end) {
      this.step();
    }
    this.now = Math.max(this.now, end);
  }

  /** Runs until predicate holds (checked after every event) or maxDuration passes; returns whether it held. */
  runUntil(predicate: () => boolean, maxDuration: number): boolean {
    const end = this.now + maxDuration;
    while (!predicate()) {
      if ((this.queue.peekTime() ?? Infinity) > end) {
        return false;
      }
      this.step();
    }
    return true;
  }

  #onTick(id: NodeId, incarnation: number): void {
    const node = this.node(id);
    if (node.raw === undefined || node.incarnation !== incarnation) {
      return;
    }
    if (node.pipeline !== undefined) {
      node.pipeline.tick();
    } else {
      node.raw.tick();
    }
    this.#check(id);
    const stall = this.loopStall;
    if (stall !== undefined && stall.rate > 0 && this.rng.next() < stall.rate) {
      const until = this.now + 1 + this.rng.int(stall.maxUnits);
      this.#stalledUntil.set(id, until);
      this.trace.record(this.now, "loop-stall", id, undefined, `until ${until}`);
    }
    this.queue.push(this.now + this.tickUnits, { kind: "tick", node: id, incarnation });
  }

  #onDeliver(message: Message): void {
    const node = this.nodes.get(message.to);
    if (node?.raw === undefined || !this.network.connected(message.from, message.to)) {
      return;
    }
    this.trace.record(this.now, "recv", message.to, message);
    node.raw.step(message);
    node.pipeline?.kick();
    this.#check(message.to);
  }

  #onNodeEvent(id: NodeId, incarnation: number, run: () => void, isDisk: boolean): void {
    const node = this.node(id);
    if (node.raw === undefined || node.incarnation !== incarnation) {
      return; // the process that asked for it is gone (its disk keeps only what crashImage kept)
    }
    run();
    if (isDisk && this.crashDuringWriteRate > 0 && node.alive && node.incarnation === incarnation && this.rng.next() < this.crashDuringWriteRate) {
      this.crash(id, true);
      return;
    }
    this.#check(id);
  }

  #check(id: NodeId): void {
    this.invariants.checkNode(this.node(id));
  }

  #send(id: NodeId, raw: RawNode, messages: readonly Message[]): void {
    for (const message of messages) {
      this.trace.record(this.now, "send", message.from, message);
      for (const delay of this.network.route(message)) {
        this.queue.push(this.now + delay, { kind: "deliver", message });
      }
      if (message.type === "snap" && this.node(id).raw === raw) {
        raw.reportSnapshot(message.to, true);
      }
    }
  }

  /** Applies committed entries to a node's hash-chain machine, checking State Machine Safety and durability. */
  applyEntries(node: SimNode, raw: RawNode, entries: readonly Entry[]): ConfState | undefined {
    const commands = this.appliedCommands.get(node.id) ?? new Map<number, string>();
    let confState: ConfState | undefined;
    for (const entry of entries) {
      if (entry.index <= node.machine.index) {
        continue; // covered by a snapshot installed meanwhile
      }
      this.invariants.checkApplied(node, entry, raw.raft.voters, this.#previousVoters.get(node.id), this.nodes);
      if (entry.type === "confChange") {
        const change = decodeConfChange(entry.data, entry.index);
        this.#previousVoters.set(node.id, [...raw.raft.voters]);
        confState = raw.applyConfChange(change);
        if (entry.index > this.#latestConfiguration.index) {
          this.#latestConfiguration = { index: entry.index, voters: confState.voters };
        }
        this.trace.record(this.now, "conf", node.id, undefined, `${change.type} ${change.nodeId} at ${entry.index}`);
      } else if (entry.data.length > 0) {
        const command = new TextDecoder().decode(entry.data);
        const session = parseSessionCommand(command);
        const last = session === undefined ? 0 : (node.machine.sessions[session.client] ?? 0);
        // A session command whose seq was applied already is a client's retry: skipped (§6.3).
        const takesEffect = session === undefined || session.seq > last;
        if (takesEffect) {
          node.machine.hash = hashBytes(node.machine.hash, entry.data);
          node.machine.count++;
          if (session !== undefined) {
            node.machine.sessions[session.client] = session.seq;
          }
        }
        if (session !== undefined) {
          this.sessions.onSessionCommand(node.id, entry.index, command, takesEffect);
        }
        commands.set(entry.index, command);
      }
      node.machine.index = entry.index;
      this.sessions.onMachineAt(node.id, node.machine);
    }
    return confState;
  }
}
