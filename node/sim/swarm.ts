// Swarm testing (TigerBeetle VOPR style): every fault option is drawn from the seed, so one seed
// names one whole run. A run has a safety phase (client load plus faults) and a liveness phase
// (heal, restart everyone, then a new proposal must commit everywhere within a bound).
import type { UnsafeCoreSwitches } from "../raft/raft.js";
import type { NodeId } from "../raft/messages.js";
import { SeededRng } from "../../lib/rng.js";
import { sessionCommand } from "./sessions.js";
import { SimCluster } from "./cluster.js";
import { InvariantViolation, type Property } from "./invariants.js";

export type PartitionMode = "none" | "isolate-single" | "halves" | "one-way" | "mixed";

export interface SwarmOptions {
  nodes: number;
  preVote: boolean;
  checkQuorum: boolean;
  dropRate: number;
  duplicateRate: number;
  latencyMax: number;
  partitionMode: PartitionMode;
  /** Time units between two fault decisions. */
  faultInterval: number;
  /** Probability that a fault decision crashes a node (another one restarts one). */
  crashRate: number;
  crashDuringWriteRate: number;
  diskLatencyMax: number;
  snapshotEvery: number;
  /** Time units between two client proposals. */
  proposalInterval: number;
  maxInflightMessages: number;
  maxEntriesPerMessage: number;
  maxMessageBytes: number;
  transferRate: number;
  readRate: number;
  /** Bounds the leader's uncommitted backlog (commands are a few bytes each). */
  maxUncommittedEntryBytes: number;
  /** Nodes outside the bootstrap configuration that membership changes may add. */
  spareNodes: number;
  /** Probability that a fault decision proposes a membership change (add or remove one voter). */
  membershipRate: number;
  /** Readys in flight in each node's pipeline (the server runs 8). */
  pipelineDepth: number;
  /** Per disk operation: probability of a stall, and its longest length in time units. */
  diskStallRate: number;
  diskStallUnits: number;
  /** Per tick: probability that the node's event loop blocks, and for how long at most. */
  loopStallRate: number;
  loopStallUnits: number;
  /** Probability that a message is held past an election timeout, and by how much. */
  holdRate: number;
  holdUnits: number;
  /** Clients with sessions (sessions.ts) that resend a command until it applied; 0: none. */
  sessionClients: number;
  /** How long a session client waits for its command to apply before it resends it, to any node. */
  sessionRetryUnits: number;
}

const TICK_UNITS = 10;
const ELECTION_TICK = 10;
/** After faults stop, a fresh proposal must commit within this many ticks (plus backlog time). */
export const LIVENESS_TICKS_MAX = 40 * ELECTION_TICK;

export function swarmOptions(seed: number, nodes?: number): SwarmOptions {
  const rng = new SeededRng((seed ^ 0x2545f491) >>> 0);
  // Always draw, so that --nodes changes only the node count and not every later option.
  const drawnNodes = rng.pick([3, 3, 5, 5, 7]);
  return {
    nodes: nodes ?? drawnNodes,
    preVote: rng.next() < 0.7,
    checkQuorum: rng.next() < 0.7,
    dropRate: rng.pick([0, 0, 0.01, 0.05, 0.1, 0.2, 0.3]),
    duplicateRate: rng.pick([0, 0, 0.01, 0.05, 0.1]),
    latencyMax: rng.pick([1, 3, 5, 10, 20, 40]),
    partitionMode: rng.pick(["none", "isolate-single", "halves", "one-way", "mixed"] as const),
    faultInterval: rng.pick([50, 100, 200, 400]),
    crashRate: rng.pick([0, 0.05, 0.1, 0.2]),
    crashDuringWriteRate: rng.pick([0, 0, 0.001, 0.01]),
    diskLatencyMax: rng.pick([0, 1, 3, 8]),
    // Small intervals make leader snapshots and local snapshots race (issue 11, defect 1).
    snapshotEvery: rng.pick([0, 5, 10, 50, 200]),
    proposalInterval: rng.pick([2, 5, 10, 30]),
    maxInflightMessages: rng.pick([1, 2, 8, 64]),
    maxEntriesPerMessage: rng.pick([1, 4, 64]),
    maxMessageBytes: rng.pick([16, 1024, 64 * 1024]),
    transferRate: rng.pick([0, 0, 0.02, 0.1]),
    readRate: rng.pick([0, 0.1, 0.5]),
    maxUncommittedEntryBytes: rng.pick([64, 512, 4096]),
    spareNodes: rng.pick([0, 0, 1, 2]),
    membershipRate: rng.pick([0.1, 0.3]),
    // Drawn last, so that the options above stay what they were for every seed.
    pipelineDepth: rng.pick([1, 2, 8]),
    diskStallRate: rng.pick([0, 0, 0.002, 0.01, 0.05]),
    diskStallUnits: rng.pick([50, 200, 500]),
    loopStallRate: rng.pick([0, 0, 0.002, 0.01]),
    loopStallUnits: rng.pick([30, 150, 400]),
    holdRate: rng.pick([0, 0, 0.005, 0.02]),
    holdUnits: rng.pick([150, 300]),
    // Drawn after everything above, so the earlier options stay what they were for every seed.
    sessionClients: rng.pick([0, 1, 3, 5]),
    sessionRetryUnits: rng.pick([20, 60, 200]),
  };
}

export interface RunResult {
  seed: number;
  ok: boolean;
  property?: Property | "crash";
  message?: string;
  steps: number;
  /** Highest index committed anywhere. */
  committed: number;
  livenessTicks?: number;
  lastEvents: string[];
  /** One line per node at the end of the run. */
  nodeStatus: string[];
  options: SwarmOptions;
  /** Every event's text (only with traceAll). */
  trace?: string[];
}

export interface RunOptions {
  seed: number;
  nodes?: number;
  /** Events processed in the safety phase. */
  steps?: number;
  traceAll?: boolean;
  /** Checker self-test: run the core with some of its unsafe switches on. */
  unsafe?: UnsafeCoreSwitches;
  /** Checker self-test: the node's vote-not-persisted switch (see ClusterOptions). */
  unsafeVoteNotPersisted?: boolean;
  /** Checker self-test: snapshots without the session table (see ClusterOptions). */
  unsafeSnapshotWithoutSessions?: boolean;
}

export function runSeed(run: RunOptions): RunResult {
  const options = swarmOptions(run.seed, run.nodes);
  const voters: NodeId[] = Array.from({ length: options.nodes }, (_, i) => i + 1);
  const ids: NodeId[] = Array.from({ length: options.nodes + options.spareNodes }, (_, i) => i + 1);
  const cluster = new SimCluster({
    ids,
    bootstrapVoters: voters,
    seed: run.seed,
    network: {
      dropRate: options.dropRate,
      duplicateRate: options.duplicateRate,
      latencyMin: 1,
      latencyMax: options.latencyMax,
      holdRate: options.holdRate,
      holdUnits: options.holdUnits,
    },
    raft: {
      electionTicks: ELECTION_TICK,
      heartbeatTicks: 1,
      preVote: options.preVote,
      checkQuorum: options.checkQuorum,
      maxInflightMessages: options.maxInflightMessages,
      maxEntriesPerMessage: options.maxEntriesPerMessage,
      maxMessageBytes: options.maxMessageBytes,
      maxUncommittedEntryBytes: options.maxUncommittedEntryBytes,
      ...run.unsafe,
    },
    tickUnits: TICK_UNITS,
    diskLatencyMax: options.diskLatencyMax,
    diskStall: { rate: options.diskStallRate, maxUnits: options.diskStallUnits },
    loopStall: { rate: options.loopStallRate, maxUnits: options.loopStallUnits },
    pipelineDepth: options.pipelineDepth,
    snapshotEvery: options.snapshotEvery,
    crashDuringWriteRate: options.crashDuringWriteRate,
    unsafeVoteNotPersisted: run.unsafeVoteNotPersisted ?? false,
    unsafeSnapshotWithoutSessions: run.unsafeSnapshotWithoutSessions ?? false,
    traceAll: run.traceAll ?? false,
  });
  const result = (fields: Partial<RunResult>): RunResult => ({
    seed: run.seed,
    ok: true,
    steps: cluster.steps,
    committed: cluster.invariants.highestCommitted,
    lastEvents: cluster.trace.last(),
    nodeStatus: [...cluster.nodes.values()].map((node) => {
      if (node.raw === undefined) {
        return `n${node.id} crashed`;
      }
      const status = node.raw.status();
      const progress =
        status.progress === undefined
          ? ""
          : ` progress ${Object.entries(status.progress)
              .map(([id, p]) => `${id}:${p.state}/${p.match}/${p.next}`)
              .join(" ")}`;
      return `n${node.id} ${status.role} term=${status.term} leader=${status.leader} commit=${status.commit} applied=${status.applied} last=${status.lastIndex}${progress}`;
    }),
    options,
    ...(run.traceAll === true ? { trace: cluster.trace.all } : {}),
    ...fields,
  });
  try {
    const faults = new FaultDriver(cluster, options, ids);
    faults.start();
    const steps = run.steps ?? 200_000;
    while (cluster.steps < steps && cluster.step()) {
      // safety phase: every event is checked inside the cluster
    }
    faults.stop();
    const livenessTicks = checkLiveness(cluster, ids, options);
    return result({ livenessTicks });
  } catch (error) {
    if (error instanceof InvariantViolation) {
      return result({ ok: false, property: error.property, message: error.message });
    }
    return result({ ok: false, property: "crash", message: error instanceof Error ? `${error.message}\n${error.stack ?? ""}` : String(error) });
  }
}

/**
 * Heals everything and restarts everyone, then requires a fresh proposal to commit (a majority
 * holds it and a leader applied it) within LIVENESS_TICKS_MAX ticks. A proposal lost to a
 * leadership change is proposed again.
 */
function checkLiveness(cluster: SimCluster, ids: readonly NodeId[], options: SwarmOptions): number {
  cluster.network.heal();
  cluster.crashDuringWriteRate = 0;
  cluster.diskStall = undefined;
  cluster.loopStall = undefined;
  // Healed means no loss, no duplicates and little jitter (heavy reordering is a fault too).
  cluster.network.options = { dropRate: 0, duplicateRate: 0, latencyMin: 1, latencyMax: Math.min(cluster.network.options.latencyMax, 5) };
  // Nodes removed from the configuration are shut down, as an operator would; members restart.
  const members = cluster.currentVoters();
  for (const id of ids) {
    if (members.includes(id)) {
      cluster.restart(id);
    } else {
      cluster.crash(id);
    }
  }
  const start = cluster.now;
  // Entries proposed during the faults but not committed must replicate first: allow one
  // pipeline round trip per window of them on top of the fixed bound.
  let lastIndex = 0;
  for (const node of cluster.nodes.values()) {
    lastIndex = Math.max(lastIndex, node.raw?.status().lastIndex ?? 0);
  }
  const backlog = Math.max(0, lastIndex - cluster.invariants.highestCommitted);
  const rounds = Math.ceil(backlog / (options.maxEntriesPerMessage * options.maxInflightMessages));
  const roundTicks = Math.ceil((2 * 5 + 2 * options.diskLatencyMax) / cluster.tickUnits) + 1;
  const boundTicks = LIVENESS_TICKS_MAX + rounds * roundTicks;
  const deadline = start + boundTicks * cluster.tickUnits;
  const command = `liveness-${cluster.options.seed}`;
  let proposal: { index: number; term: number; at: number } | undefined;
  const committed = (): boolean => proposal !== undefined && cluster.invariants.committedTermAt(proposal.index) === proposal.term;
  while (cluster.now < deadline) {
    const leader = cluster.leader();
    const lost = proposal !== undefined && cluster.now - proposal.at > 10 * cluster.tickUnits * 2 && !committed();
    if ((proposal === undefined || lost) && leader !== undefined && cluster.propose(leader, command)) {
      const status = cluster.raw(leader).status();
      proposal = { index: status.lastIndex, term: status.term, at: cluster.now };
    }
    if (cluster.runUntil(committed, cluster.tickUnits)) {
      return Math.ceil((cluster.now - start) / cluster.tickUnits);
    }
  }
  throw new InvariantViolation(
    "liveness",
    `after healing at t=${start}, "${command}" ${proposal === undefined ? "was never accepted by a leader" : `(index ${proposal.index}, term ${proposal.term}) did not commit`} within ${boundTicks} ticks (backlog ${backlog} entries)`,
  );
}

/** Client load and faults, as recurring actions on the cluster's clock. */
class FaultDriver {
  #running = false;
  #sequence = 0;
  readonly #rng: SeededRng;
  readonly #sessionRng: SeededRng;

  constructor(
    readonly cluster: SimCluster,
    readonly options: SwarmOptions,
    readonly ids: readonly NodeId[],
  ) {
    this.#rng = new SeededRng((cluster.options.seed ^ 0x68e31da4) >>> 0);
    // Its own stream, so that the other clients and faults draw what they drew before sessions.
    this.#sessionRng = new SeededRng((cluster.options.seed ^ 0x2c1b3c6d) >>> 0);
  }

  start(): void {
    this.#running = true;
    this.cluster.schedule(this.options.proposalInterval, 0, "client", () => this.#client());
    this.cluster.schedule(this.options.faultInterval, 0, "fault", () => this.#fault());
    for (let client = 1; client <= this.options.sessionClients; client++) {
      this.cluster.schedule(1 + this.#sessionRng.int(this.options.proposalInterval * 2), 0, "session", () => this.#sessionClient(client, 1));
    }
  }

  /**
   * One session client: sends its command `seq` to a node (the leader or, as after a timeout or a
   * crash, any node), then resends the same command until it applied (what an answer would tell
   * it), and only then goes on with seq + 1.
   */
  #sessionClient(client: number, seq: number): void {
    if (!this.#running) {
      return;
    }
    const rng = this.#sessionRng;
    const command = sessionCommand(client, seq);
    const applied = this.cluster.sessions.applied(command);
    const next = applied ? seq + 1 : seq;
    const leader = this.cluster.leader();
    const target = leader !== undefined && rng.next() < 0.5 ? leader : rng.pick(this.ids);
    this.cluster.propose(target, sessionCommand(client, next));
    const wait = applied ? 1 + rng.int(this.options.proposalInterval * 2) : this.options.sessionRetryUnits;
    this.cluster.schedule(wait, 0, "session", () => this.#sessionClient(client, next));
  }

  stop(): void {
    this.#running = false;
  }

  #client(): void {
    if (!this.#running) {
      return;
    }
    const rng = this.#rng;
    const leader = this.cluster.leader();
    const target = leader !== undefined && rng.next() < 0.8 ? leader : rng.pick(this.ids);
    if (this.cluster.node(target).alive) {
      if (rng.next() < this.options.readRate) {
        this.cluster.readIndex(target);
      } else {
        this.cluster.propose(target, `c${++this.#sequence}`);
      }
      if (leader !== undefined && rng.next() < this.options.transferRate && this.cluster.node(leader).alive) {
        this.cluster.transferLeader(leader, rng.pick(this.ids));
      }
    }
    this.cluster.schedule(1 + rng.int(this.options.proposalInterval * 2), 0, "client", () => this.#client());
  }

  #fault(): void {
    if (!this.#running) {
      return;
    }
    const rng = this.#rng;
    const cluster = this.cluster;
    const crashed = this.ids.filter((id) => !cluster.node(id).alive);
    const roll = rng.next();
    if (this.options.spareNodes > 0 && rng.next() < this.options.membershipRate) {
      this.#changeMembership();
    } else if (roll < this.options.crashRate) {
      cluster.crash(rng.pick(this.ids));
    } else if (crashed.length > 0 && roll < this.options.crashRate * 2.5) {
      cluster.restart(rng.pick(crashed));
    } else if (this.options.partitionMode !== "none") {
      this.#partition();
    }
    cluster.schedule(1 + rng.int(this.options.faultInterval * 2), 0, "fault", () => this.#fault());
  }

  /** Adds a non-voter or removes a voter (possibly the leader), keeping at least three voters. */
  #changeMembership(): void {
    const rng = this.#rng;
    const leader = this.cluster.leader();
    if (leader === undefined) {
      return;
    }
    const voters = this.cluster.raw(leader).status().voters;
    const outsiders = this.ids.filter((id) => !voters.includes(id));
    const remove = outsiders.length === 0 || (voters.length > 3 && rng.next() < 0.5);
    const nodeId = remove ? rng.pick(voters) : rng.pick(outsiders);
    if (remove && voters.length <= 3) {
      return;
    }
    const type = remove ? "removeNode" : "addNode";
    const accepted = this.cluster.proposeConfChange(leader, { type, nodeId, context: new Uint8Array(0) });
    this.cluster.trace.record(this.cluster.now, "membership", leader, undefined, `${type} ${nodeId} ${accepted ? "proposed" : "refused"}`);
    if (accepted && !remove && !this.cluster.node(nodeId).alive) {
      this.cluster.restart(nodeId);
    }
  }

  #partition(): void {
    const rng = this.#rng;
    const network = this.cluster.network;
    network.heal();
    if (rng.next() < 0.3) {
      return; // stay healed for a while
    }
    const mode = this.options.partitionMode === "mixed" ? rng.pick(["isolate-single", "halves", "one-way"] as const) : this.options.partitionMode;
    const shuffled = rng.shuffle([...this.ids]);
    if (mode === "isolate-single") {
      network.isolate(shuffled[0] as NodeId, this.ids);
    } else if (mode === "halves") {
      const cut = 1 + rng.int(shuffled.length - 1);
      network.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
    } else {
      const cuts = 1 + rng.int(this.ids.length);
      for (let i = 0; i < cuts; i++) {
        network.cutOneWay(rng.pick(this.ids), rng.pick(this.ids));
      }
    }
    this.cluster.trace.record(this.cluster.now, "partition", 0, undefined, network.describeGrudge());
  }
}
