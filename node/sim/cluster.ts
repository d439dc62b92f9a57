// A simulated cluster on a virtual clock: RawNodes, the seeded network, per-node ticks, and an
// explicit persist step per Ready so that a crash can fall between handing out a Ready and
// finishing its writes (a crash loses whatever was not persisted). Invariants run after every event.
import type { ConfChange, Entry, HardState, Message, NodeId } from "../raft/messages.js";
import { RawNode, type Ready } from "../raft/raw-node.js";
import type { RaftConfig } from "../raft/raft.js";
import { createRng, type Rng } from "../raft/rng.js";
import { ProposalDroppedError } from "../raft/errors.js";
import { decodeConfChange } from "../raft/conf-change-codec.js";
import { contextKey } from "../raft/read-only.js";
import { EventQueue } from "./event-queue.js";
import { Network, RELIABLE, type NetworkOptions } from "./network.js";
import { SimNode, encodeMachine, decodeMachine, hashBytes } from "./sim-node.js";
import { Invariants } from "./invariants.js";
import { Trace } from "./trace.js";

export interface ClusterOptions {
  ids: readonly NodeId[];
  seed: number;
  network?: NetworkOptions;
  raft?: Partial<Omit<RaftConfig, "id" | "rng">>;
  /** Time units between two ticks of a node. */
  tickUnits?: number;
  /** Persisting a Ready takes a uniform [0, diskLatencyMax] time units. */
  diskLatencyMax?: number;
  /** Take a snapshot and compact every this many applied entries (0: never). */
  snapshotEvery?: number;
  /** Probability that a node crashes in the middle of persisting a Ready (after a random prefix). */
  crashDuringWriteRate?: number;
  /** Keep every event's text (determinism test). */
  traceAll?: boolean;
  /**
   * Models the node's unsafe vote-not-persisted switch: a vote reply leaves before its Ready is
   * persisted, and a Ready without entries or a snapshot does not persist its hard state.
   */
  unsafeVoteNotPersisted?: boolean;
  /** Voters at bootstrap when they differ from ids (nodes added later start empty). */
  bootstrapVoters?: readonly NodeId[];
}

type SimEvent =
  | { kind: "tick"; node: NodeId; incarnation: number }
  | { kind: "deliver"; message: Message }
  | { kind: "persist"; node: NodeId; incarnation: number; ready: Ready }
  | { kind: "action"; node: NodeId; label: string; run: () => void };

export class Cluster {
  /** unsafeVoteNotPersisted: hard states not yet written, by node. */
  readonly #unwrittenHardStates = new Map<NodeId, HardState>();
  now = 0;
  steps = 0;
  readonly rng: Rng;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly network: Network;
  readonly invariants = new Invariants();
  readonly trace: Trace;
  readonly queue = new EventQueue<SimEvent>();
  readonly options: ClusterOptions;
  readonly tickUnits: number;
  /** Probability of a torn write per persist step; the liveness phase sets it to 0. */
  crashDuringWriteRate: number;
  /** Commands each node applied, by log index (re-applying after a restart writes the same slots). */
  readonly appliedCommands = new Map<NodeId, Map<number, string>>();
  #readSequence = 0;
  /** The configuration of the highest conf change any node applied: the cluster's current membership. */
  #latestConfiguration: { index: number; voters: NodeId[] };
  /** Per node: the voters before the last conf change it applied (apply-time configurations overlap by one change). */
  readonly #previousVoters = new Map<NodeId, NodeId[]>();

  constructor(options: ClusterOptions) {
    this.options = options;
    this.rng = createRng(options.seed);
    this.network = new Network(options.network ?? RELIABLE, createRng(options.seed ^ 0x5bd1e995));
    this.trace = new Trace(50, options.traceAll ?? false);
    this.tickUnits = options.tickUnits ?? 10;
    this.crashDuringWriteRate = options.crashDuringWriteRate ?? 0;
    const voters = options.bootstrapVoters ?? options.ids;
    this.#latestConfiguration = { index: 0, voters: [...voters] };
    for (const id of options.ids) {
      // Every node knows the initial configuration (like etcd's --initial-cluster); nodes outside
      // it are not promotable until a conf change adds them.
      this.nodes.set(id, new SimNode(id, voters));
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
      electionTick: 10,
      heartbeatTick: 1,
      preVote: true,
      checkQuorum: true,
      maxSizePerMsg: 64 * 1024,
      maxEntriesPerMsg: 64,
      maxInflightMsgs: 8,
      maxUncommittedEntriesSize: 1 << 30,
      ...this.options.raft,
      rng: createRng((this.options.seed * 7919 + id * 104729 + incarnation * 31) >>> 0),
    };
  }

  #start(id: NodeId): void {
    const node = this.node(id);
    node.recoverMachine();
    node.raw = new RawNode(this.raftConfig(id, node.incarnation), node.initialState());
    node.busy = false;
    this.trace.record(this.now, "start", id, undefined, `incarnation ${node.incarnation}`);
    // Stagger the first tick so nodes do not tick in lockstep.
    this.queue.push(this.now + 1 + this.rng.int(this.tickUnits), { kind: "tick", node: id, incarnation: node.incarnation });
  }

  crash(id: NodeId): void {
    const node = this.node(id);
    if (!node.alive) {
      return;
    }
    this.#unwrittenHardStates.delete(id);
    node.raw = undefined;
    node.incarnation++;
    node.busy = false;
    this.trace.record(this.now, "crash", id);
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
    this.nodes.set(id, new SimNode(id, []));
    this.appliedCommands.set(id, new Map());
    this.#start(id);
  }

  schedule(delay: number, node: NodeId, label: string, run: () => void): void {
    this.queue.push(this.now + delay, { kind: "action", node, label, run });
  }

  /** Proposes a command at a node; false when the core dropped it. */
  propose(id: NodeId, command: string): boolean {
    const raw = this.node(id).raw;
    if (raw === undefined) {
      return false;
    }
    try {
      raw.propose(new TextEncoder().encode(command));
    } catch (error) {
      if (error instanceof ProposalDroppedError) {
        return false;
      }
      throw error;
    }
    this.trace.record(this.now, "propose", id, undefined, command);
    this.#pump(id);
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
    this.#pump(id);
    return true;
  }

  /** Starts a ReadIndex at a node; returns the context whose read state will come back. */
  readIndex(id: NodeId): string {
    const context = new TextEncoder().encode(`read-${id}-${++this.#readSequence}`);
    const key = contextKey(context);
    this.invariants.onReadRequested(key);
    this.raw(id).readIndex(context);
    this.#pump(id);
    return key;
  }

  transferLeader(id: NodeId, to: NodeId): void {
    this.raw(id).transferLeader(to);
    this.trace.record(this.now, "transfer", id, undefined, `to ${to}`);
    this.#pump(id);
  }

  campaign(id: NodeId): void {
    this.raw(id).campaign();
    this.#pump(id);
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
    switch (event.kind) {
      case "tick":
        this.#onTick(event.node, event.incarnation);
        return true;
      case "deliver":
        this.#onDeliver(event.message);
        return true;
      case "persist":
        this.#onPersist(event.node, event.incarnation, event.ready);
        return true;
      case "action":
        this.trace.record(this.now, "action", event.node, undefined, event.label);
        event.run();
        for (const id of this.nodes.keys()) {
          this.#pump(id);
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
    node.raw.tick();
    this.#pump(id);
    this.#check(id);
    this.queue.push(this.now + this.tickUnits, { kind: "tick", node: id, incarnation });
  }

  #onDeliver(message: Message): void {
    const node = this.nodes.get(message.to);
    if (node?.raw === undefined || !this.network.connected(message.from, message.to)) {
      return;
    }
    this.trace.record(this.now, "recv", message.to, message);
    node.raw.step(message);
    this.#pump(message.to);
    this.#check(message.to);
  }

  #check(id: NodeId): void {
    this.invariants.checkNode(this.node(id));
  }

  /** Hands out the next Ready of an idle node; its writes complete in a later persist event. */
  #pump(id: NodeId): void {
    const node = this.node(id);
    const raw = node.raw;
    if (raw === undefined || node.busy || !raw.hasReady()) {
      return;
    }
    const ready = raw.ready();
    this.invariants.checkNewEntries(id, raw, ready.entries);
    if (this.options.unsafeVoteNotPersisted === true) {
      for (const message of ready.messages.filter((m) => m.type === "voteResp")) {
        this.#send(message);
      }
      ready.messages = ready.messages.filter((m) => m.type !== "voteResp");
    }
    node.busy = true;
    const latency = this.options.diskLatencyMax === undefined || this.options.diskLatencyMax === 0 ? 0 : this.rng.int(this.options.diskLatencyMax + 1);
    this.queue.push(this.now + latency, { kind: "persist", node: id, incarnation: node.incarnation, ready });
  }

  #onPersist(id: NodeId, incarnation: number, ready: Ready): void {
    const node = this.node(id);
    const raw = node.raw;
    if (raw === undefined || node.incarnation !== incarnation) {
      return;
    }
    const crashRate = this.crashDuringWriteRate;
    if (crashRate > 0 && ready.entries.length + (ready.hardState === undefined ? 0 : 1) > 0 && this.rng.next() < crashRate) {
      // Torn write: a prefix of the entries reaches the disk, the hard state (written last) does not.
      const written = this.rng.int(ready.entries.length + 1);
      if (ready.snapshot !== undefined) {
        node.writeSnapshot(ready.snapshot, this.invariants);
      }
      node.writeEntries(ready.entries.slice(0, written), this.invariants);
      this.trace.record(this.now, "torn-write", id, undefined, `${written}/${ready.entries.length} entries, no hard state`);
      this.crash(id);
      return;
    }
    if (ready.snapshot !== undefined) {
      node.writeSnapshot(ready.snapshot, this.invariants);
    }
    node.writeEntries(ready.entries, this.invariants);
    const hardStateOnly = ready.entries.length === 0 && ready.snapshot === undefined;
    if (this.options.unsafeVoteNotPersisted === true && hardStateOnly) {
      // As the node does: an unwritten hard state rides along with the next write of entries.
      if (ready.hardState !== undefined) {
        this.#unwrittenHardStates.set(id, ready.hardState);
      }
    } else {
      const hardState = ready.hardState ?? this.#unwrittenHardStates.get(id);
      this.#unwrittenHardStates.delete(id);
      if (hardState !== undefined) {
        node.hardState = hardState;
      }
    }
    for (const message of ready.messages) {
      this.#send(message);
      if (message.type === "snap") {
        raw.reportSnapshot(message.to, true);
      }
    }
    if (ready.snapshot !== undefined) {
      node.machine = decodeMachine(ready.snapshot.data);
    }
    this.#apply(node, raw, ready.committedEntries);
    for (const read of ready.readStates) {
      this.invariants.onReadState(id, contextKey(read.context), read.index);
    }
    raw.advance(ready);
    node.busy = false;
    this.#maybeCompact(node, raw);
    this.#pump(id);
    this.#check(id);
  }

  #send(message: Message): void {
    this.trace.record(this.now, "send", message.from, message);
    for (const delay of this.network.route(message)) {
      this.queue.push(this.now + delay, { kind: "deliver", message });
    }
  }

  #apply(node: SimNode, raw: RawNode, entries: readonly Entry[]): void {
    const commands = this.appliedCommands.get(node.id) ?? new Map<number, string>();
    for (const entry of entries) {
      if (entry.index <= node.machine.index) {
        continue; // covered by a snapshot installed meanwhile
      }
      this.invariants.checkApplied(node, entry, raw.raft.voters, this.#previousVoters.get(node.id), this.nodes);
      if (entry.type === "confChange") {
        const change = decodeConfChange(entry.data, entry.index);
        this.#previousVoters.set(node.id, [...raw.raft.voters]);
        const confState = raw.applyConfChange(change);
        if (entry.index > this.#latestConfiguration.index) {
          this.#latestConfiguration = { index: entry.index, voters: confState.voters };
        }
        this.trace.record(this.now, "conf", node.id, undefined, `${change.type} ${change.nodeId} at ${entry.index}`);
      } else if (entry.data.length > 0) {
        node.machine.hash = hashBytes(node.machine.hash, entry.data);
        node.machine.count++;
        commands.set(entry.index, new TextDecoder().decode(entry.data));
      }
      node.machine.index = entry.index;
    }
  }

  #maybeCompact(node: SimNode, raw: RawNode): void {
    const every = this.options.snapshotEvery ?? 0;
    const applied = raw.raft.log.applied;
    const log = raw.raft.log;
    // Not while a snapshot from the leader is still pending: the core's log already starts after it.
    if (every <= 0 || applied - node.snapshotIndex < every || node.machine.index !== applied || log.unstable.snapshot !== undefined || applied <= log.snapshotIndex) {
      return;
    }
    const data = encodeMachine(node.machine);
    raw.compact(applied, data);
    const snapshot = raw.raft.log.snapshot;
    if (snapshot === undefined || snapshot.metadata.index !== applied) {
      throw new Error(`cluster: node ${node.id} compacted to ${applied} but holds no snapshot there`);
    }
    node.entries = node.entries.slice(applied - node.snapshotIndex);
    node.snapshot = snapshot;
    this.trace.record(this.now, "compact", node.id, undefined, `at ${applied}`);
  }
}
