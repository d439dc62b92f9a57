// Runtime: where a cluster's nodes live (Docker containers or local processes), in Jepsen's "db"
// spirit. The nemesis and clients are written against these interfaces only.

/** The runtimes: one Docker daemon, local processes, or a Docker Swarm of one or more hosts. */
export type RuntimeName = "docker" | "local" | "swarm";

export interface ClusterSpec {
  /** Unique per run; used for container names, labels and temp dirs. */
  runId: string;
  /** Node ids, 1..n. */
  nodeIds: number[];
  /** Plugin name ("kv", "counter", "queue") or a path to a third-party plugin module. */
  plugin: string;
  /** Unsafe behaviours to switch on in every node (e.g. "stale-reads"), for checker self-tests. */
  unsafe: string[];
  /** Tuning flags for every node (e.g. ["--snapshot-every", "500"]), from the workload's `node:` section. */
  nodeFlags?: string[];
  /** Host directory for this run's node logs (one `node-<id>.log` each, JSON lines). */
  logDir: string;
}

export interface NodeEndpoint {
  id: number;
  /** host:port at which the harness (on the host) reaches the node's client port. */
  clientAddress: string;
  /**
   * Optional: host:port of the node's real peer listener (used when re-adding it as a member).
   * Nodes listed in each other's --peers flags dial the flags' addresses regardless.
   */
  peerAddress?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Whether a fault can be injected: true, or why not (a sentence that a refusal quotes). */
export type Capability = true | string;

/** What a network can inject, one entry per NetworkControl fault method. */
export interface NetworkCapabilities {
  block: Capability;
  loss: Capability;
  latency: Capability;
  bandwidth: Capability;
}

export type NetworkFaultKind = keyof NetworkCapabilities;

/** Every network fault supported: what runtimes that inject faults in userland answer. */
export const ALL_NETWORK_FAULTS: NetworkCapabilities = { block: true, loss: true, latency: true, bandwidth: true };

/** Packet-level faults between nodes. Directions matter: block(a, b) drops what a sends to b. */
export interface NetworkControl {
  /**
   * What this network can inject here (Docker probes the kernel for netem inside a running node,
   * once). A run asks before its first fault and refuses a workload whose faults are not all true.
   */
  capabilities(signal?: AbortSignal): Promise<NetworkCapabilities>;
  /** Drops traffic sent from `from` to `to` (one way). */
  block(from: number, to: number, signal?: AbortSignal): Promise<void>;
  /** Removes every block, loss, delay and bandwidth rule. */
  heal(signal?: AbortSignal): Promise<void>;
  /**
   * Replaces every block with these (from, to) pairs in one step, with no healed moment between
   * the old partition and the new. Optional: where rules cost a process each (Docker), one rewrite
   * per node instead of a heal and one per pair; elsewhere replacePartition (grudge.ts) falls back.
   */
  replaceBlocks?(blocks: ReadonlyArray<readonly [number, number]>, signal?: AbortSignal): Promise<void>;
  /**
   * Adds these (from, to) blocks in one step. Optional: where rules cost a process each (Docker),
   * every affected node is rewritten once and all at once, so a partition takes hold on all its
   * links together instead of pair by pair; elsewhere applyGrudge (grudge.ts) blocks pair by pair.
   */
  addBlocks?(blocks: ReadonlyArray<readonly [number, number]>, signal?: AbortSignal): Promise<void>;
  /** Drops each packet a node receives from peers with the given probability (0..1). */
  loss(nodeIds: number[], probability: number, signal?: AbortSignal): Promise<void>;
  /** Adds latency to traffic between peers; throws FaultUnsupportedError where capabilities() says it cannot. */
  latency(nodeIds: number[], delayMs: number, jitterMs: number, signal?: AbortSignal): Promise<void>;
  /** Caps what each given node sends to its peers at `bitsPerSecond` in total, as a slow NIC would. */
  bandwidth(nodeIds: number[], bitsPerSecond: number, signal?: AbortSignal): Promise<void>;
}

/**
 * A fault this runtime cannot inject here: thrown by a NetworkControl method called anyway, and by a
 * run that refuses a workload once the cluster's capabilities() say no (the CLI exits 254).
 */
export class FaultUnsupportedError extends Error {
  readonly code = "FAULT_UNSUPPORTED";
  constructor(message: string) {
    super(message);
    this.name = "FaultUnsupportedError";
  }
}

export interface Cluster {
  readonly runtime: RuntimeName;
  readonly nodes: readonly NodeEndpoint[];
  /**
   * This run's cluster secret (drawn per cluster, handed to the nodes in a file): clients pass it
   * to RaftClient, since membership changes and leadership transfers need it.
   */
  readonly secret: Uint8Array;
  readonly network: NetworkControl;
  /** Starts a node that is stopped or was killed (keeps its data directory). */
  start(id: number, signal?: AbortSignal): Promise<void>;
  /** Graceful stop (SIGTERM, then SIGKILL after a grace period). */
  stop(id: number, signal?: AbortSignal): Promise<void>;
  /** kill -9: the process dies at once; unsynced writes are lost. */
  kill(id: number, signal?: AbortSignal): Promise<void>;
  /** SIGSTOP / SIGCONT. */
  pause(id: number, signal?: AbortSignal): Promise<void>;
  resume(id: number, signal?: AbortSignal): Promise<void>;
  /** Runs a command on the node (inside its container, or on the host for local). */
  exec(id: number, argv: string[], signal?: AbortSignal): Promise<ExecResult>;
  /** Host path of the node's JSON-lines log. */
  logPath(id: number): string;
  /**
   * Copies the node's data directory (WAL, snapshots, hard state) into `target` on the host, for
   * results kept as evidence (keep_data). Call it once the node is stopped. Runtimes that cannot
   * (swarm: the volume lives on another host) leave it undefined.
   */
  copyData?(id: number, target: string, signal?: AbortSignal): Promise<void>;
  /** Stops every node and removes containers, networks, proxies and temp data. Idempotent. */
  destroy(): Promise<void>;
}

export interface Runtime {
  readonly name: RuntimeName;
  /** Whether this runtime can run here (e.g. a Docker daemon answers). */
  available(signal?: AbortSignal): Promise<boolean>;
  /**
   * What the networks of this runtime's clusters can inject, as far as it can tell before creating
   * anything (Docker probes the host's kernel). A kind it cannot answer for yet is left out; the
   * cluster's NetworkControl.capabilities() answers for it once the nodes run.
   */
  networkCapabilities(signal?: AbortSignal): Promise<Partial<NetworkCapabilities>>;
  createCluster(spec: ClusterSpec, signal?: AbortSignal): Promise<Cluster>;
}
