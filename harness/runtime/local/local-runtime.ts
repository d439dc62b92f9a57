// The local runtime: every node is a child process on this host, listening on loopback, and every
// byte between two nodes crosses a FaultProxy for that ordered pair. Node a is told (--peers) that
// node b lives at the a->b proxy's port, so blocking, loss, delay and rate limits need no root and
// no iptables, and latency works even where netem does not.
//
// Differences from Docker worth knowing: exec runs on the HOST (there is no container), and loss
// acts per chunk read from a socket rather than per packet: a lost chunk arrives after TCP's
// retransmission timeout, as a lost packet would (see proxied-connection.ts).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execFile } from "node:child_process";
import { FaultProxy } from "./fault-proxy.js";
import { freePorts } from "./free-port.js";
import { clusterSecretFile, harnessPidFile } from "./leftovers.js";
import { LinkFaults } from "./link-faults.js";
import { LocalNodeProcess, LocalRuntimeError } from "./local-node-process.js";
import { TokenBucket } from "./token-bucket.js";
import { newSecret, writeSecretFile } from "../../../node/server/config/secret-file.js";
import {
  ALL_NETWORK_FAULTS,
  type Cluster,
  type ClusterSpec,
  type ExecResult,
  type NetworkCapabilities,
  type NetworkControl,
  type NodeEndpoint,
  type Runtime,
} from "../runtime.js";

export { LocalRuntimeError } from "./local-node-process.js";

export interface LocalRuntimeOptions {
  /** The built CLI; default <project>/bin/raftlab-node.js. */
  cliPath?: string;
  /**
   * Node.js flags placed before the CLI path, e.g. ["--import", "tsx"] with a .ts cliPath to run
   * nodes from source (tests of the runtime itself do so with a stub node).
   */
  nodeExecArgv?: readonly string[];
  /** Extra flags for every node (e.g. ["--tick-ms", "10"]), appended after the contract flags. */
  extraNodeArgs?: readonly string[];
  /** Per node start, until its client port accepts connections (default 20 s). */
  startTimeoutMs?: number;
  /** Grace between SIGTERM and SIGKILL in stop() (default 5 s). */
  stopGraceMs?: number;
  /** Draws for loss and jitter; seed it for reproducible fault patterns. */
  random?: () => number;
}

/** Output kept from one exec, per stream. */
const EXEC_OUTPUT_BYTES_MAX = 16 * 1024 * 1024;

/** Clusters of this process that are not destroyed yet, for a SIGINT handler to clean up. */
const liveClusters = new Set<LocalCluster>();

/** Destroys every local cluster this process created (the run command calls it on SIGINT). */
export async function destroyAllLocalClusters(): Promise<void> {
  await Promise.all([...liveClusters].map((cluster) => cluster.destroy()));
}

export class LocalRuntime implements Runtime {
  readonly name = "local" as const;
  readonly #options: LocalRuntimeOptions;

  constructor(options: LocalRuntimeOptions = {}) {
    this.#options = options;
  }

  /** Local processes can always run (the built CLI is checked by createCluster, with a clear error). */
  async available(_signal?: AbortSignal): Promise<boolean> {
    return true;
  }

  async networkCapabilities(signal?: AbortSignal): Promise<NetworkCapabilities> {
    signal?.throwIfAborted();
    return ALL_NETWORK_FAULTS;
  }

  async createCluster(spec: ClusterSpec, signal?: AbortSignal): Promise<Cluster> {
    signal?.throwIfAborted();
    const cliPath = this.#options.cliPath ?? defaultCliPath();
    const compiledServer = path.join(path.dirname(path.dirname(cliPath)), "dist", "node", "server", "main.js");
    if (!existsSync(cliPath) || (this.#options.cliPath === undefined && !existsSync(compiledServer))) {
      throw new LocalRuntimeError(
        "NOT_BUILT",
        `${existsSync(cliPath) ? compiledServer : cliPath} does not exist: run \`npm run build\` first (the local runtime starts nodes with bin/raftlab-node.js)`,
      );
    }
    validateSpec(spec);
    const ports = await freePorts(spec.nodeIds.length * 2);
    const cluster = new LocalCluster(spec, cliPath, this.#options, ports);
    liveClusters.add(cluster);
    try {
      await cluster.launch(signal);
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }
}

class LocalCluster implements Cluster {
  readonly runtime = "local" as const;
  readonly nodes: readonly NodeEndpoint[];
  readonly network: NetworkControl;
  readonly secret: Uint8Array;
  /** Root of this run's node data directories and its secret file: <tmp>/raftlab-<runId>, mode 0700. */
  readonly dataRoot: string;
  readonly #secretText = newSecret();
  readonly #spec: ClusterSpec;
  readonly #cliPath: string;
  readonly #options: LocalRuntimeOptions;
  readonly #processes = new Map<number, LocalNodeProcess>();
  /** Faults per ordered pair, keyed "a->b". */
  readonly #links = new Map<string, LinkFaults>();
  readonly #proxies: FaultProxy[] = [];
  readonly #peerPorts = new Map<number, number>();
  readonly #clientPorts = new Map<number, number>();
  #destroyed: Promise<void> | undefined;

  /** `ports` holds two free ports per node, in nodeIds order: peer port, client port. */
  constructor(spec: ClusterSpec, cliPath: string, options: LocalRuntimeOptions, ports: readonly number[]) {
    if (ports.length !== spec.nodeIds.length * 2) {
      throw new Error(`invariant: ${ports.length} ports for ${spec.nodeIds.length} nodes`);
    }
    spec.nodeIds.forEach((id, index) => {
      this.#peerPorts.set(id, ports[2 * index]!);
      this.#clientPorts.set(id, ports[2 * index + 1]!);
    });
    this.nodes = spec.nodeIds.map((id) => ({
      id,
      clientAddress: `127.0.0.1:${this.#clientPorts.get(id)!}`,
      peerAddress: `127.0.0.1:${this.#peerPorts.get(id)!}`,
    }));
    this.#spec = spec;
    this.#cliPath = cliPath;
    this.#options = options;
    this.dataRoot = path.join(os.tmpdir(), `raftlab-${spec.runId}`);
    this.secret = Buffer.from(this.#secretText, "utf8");
    for (const source of spec.nodeIds) {
      for (const target of spec.nodeIds) {
        if (source !== target) {
          this.#links.set(linkKey(source, target), new LinkFaults(source, target));
        }
      }
    }
    this.network = new LocalNetwork(spec.nodeIds, (source, target) => this.#link(source, target), [...this.#links.values()]);
  }

  async launch(signal?: AbortSignal): Promise<void> {
    const { nodeIds, logDir } = this.#spec;
    mkdirSync(logDir, { recursive: true });
    const proxyAddress = new Map<string, string>();
    for (const source of nodeIds) {
      for (const target of nodeIds) {
        if (source === target) {
          continue;
        }
        const proxy = await FaultProxy.start(
          {
            source,
            target,
            targetAddress: `127.0.0.1:${this.#peerPorts.get(target)!}`,
            outbound: this.#link(source, target),
            inbound: this.#link(target, source),
            ...(this.#options.random === undefined ? {} : { random: this.#options.random }),
          },
          signal,
        );
        this.#proxies.push(proxy);
        proxyAddress.set(linkKey(source, target), proxy.address);
      }
    }
    const peerClients = nodeIds.map((id) => `${id}=127.0.0.1:${this.#clientPorts.get(id)!}`).join(",");
    // The secret goes in a file only the owner can read, never on a command line (visible in ps).
    mkdirSync(this.dataRoot, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(this.dataRoot, harnessPidFile), `${process.pid}\n`);
    const secretFile = path.join(this.dataRoot, clusterSecretFile);
    writeSecretFile(secretFile, this.#secretText);
    for (const id of nodeIds) {
      const dataDir = path.join(this.dataRoot, `n${id}`);
      mkdirSync(dataDir, { recursive: true });
      const peers = nodeIds.map((peer) => `${peer}=${peer === id ? `127.0.0.1:${this.#peerPorts.get(id)!}` : proxyAddress.get(linkKey(id, peer))!}`).join(",");
      const nodeArgs = [
        "--id",
        String(id),
        "--listen",
        `127.0.0.1:${this.#peerPorts.get(id)!}`,
        "--client-listen",
        `127.0.0.1:${this.#clientPorts.get(id)!}`,
        "--peers",
        peers,
        "--peer-clients",
        peerClients,
        "--plugin",
        this.#spec.plugin,
        "--data",
        dataDir,
        "--cluster-id",
        this.#spec.runId,
        "--secret-file",
        secretFile,
        "--exit-with-parent",
        ...(this.#spec.unsafe.length > 0 ? ["--unsafe", this.#spec.unsafe.join(",")] : []),
        ...(this.#spec.nodeFlags ?? []),
        ...(this.#options.extraNodeArgs ?? []),
      ];
      this.#processes.set(
        id,
        new LocalNodeProcess({
          id,
          cliPath: this.#cliPath,
          execArgv: this.#options.nodeExecArgv ?? [],
          nodeArgs,
          logPath: this.logPath(id),
          clientHost: "127.0.0.1",
          clientPort: this.#clientPorts.get(id)!,
          startTimeoutMs: this.#options.startTimeoutMs ?? 20_000,
        }),
      );
    }
    // All at once: a node waits for a quorum, so starting them one by one would only add latency.
    await Promise.all([...this.#processes.values()].map((node) => node.start(signal)));
  }

  async start(id: number, signal?: AbortSignal): Promise<void> {
    await this.#process(id).start(signal);
  }

  async stop(id: number, signal?: AbortSignal): Promise<void> {
    await this.#process(id).stop(signal, this.#options.stopGraceMs ?? 5000);
  }

  async kill(id: number, signal?: AbortSignal): Promise<void> {
    await this.#process(id).kill(signal);
  }

  async pause(id: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.#process(id).pause();
  }

  async resume(id: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.#process(id).resume();
  }

  /** Runs argv ON THE HOST: a local node has no container of its own. */
  async exec(id: number, argv: string[], signal?: AbortSignal): Promise<ExecResult> {
    this.#process(id);
    const [file, ...args] = argv;
    if (file === undefined) {
      throw new RangeError(`exec on node ${id}: argv is empty`);
    }
    return new Promise<ExecResult>((resolve, reject) => {
      execFile(file, args, { signal, maxBuffer: EXEC_OUTPUT_BYTES_MAX, encoding: "utf8" }, (error, stdout, stderr) => {
        if (signal?.aborted === true) {
          reject(signal.reason instanceof Error ? signal.reason : new Error(`exec on node ${id} aborted`));
          return;
        }
        if (error !== null && typeof error.code !== "number") {
          // Not an exit status: the command could not run at all (e.g. ENOENT).
          reject(new LocalRuntimeError("EXEC_FAILED", `exec on node ${id} (on the host) of ${JSON.stringify(argv)} failed: ${error.message}`));
          return;
        }
        resolve({ exitCode: error === null ? 0 : (error.code as number), stdout, stderr });
      });
    });
  }

  logPath(id: number): string {
    return path.join(this.#spec.logDir, `node-${id}.log`);
  }

  /** Data directory of one node (kept across restarts, removed by destroy). */
  dataDir(id: number): string {
    this.#process(id);
    return path.join(this.dataRoot, `n${id}`);
  }

  async copyData(id: number, target: string): Promise<void> {
    await cp(this.dataDir(id), target, { recursive: true });
  }

  /** The proxy carrying what `source` sends to `target` on connections source opens (for tests and diagnostics). */
  proxy(source: number, target: number): FaultProxy {
    const proxy = this.#proxies.find((candidate) => candidate.source === source && candidate.target === target);
    if (proxy === undefined) {
      throw new LocalRuntimeError("UNKNOWN_NODE", `no proxy ${source}->${target} in cluster ${this.#spec.runId}`);
    }
    return proxy;
  }

  async destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      await Promise.all([...this.#processes.values()].map((node) => node.kill()));
      await Promise.all(this.#proxies.map((proxy) => proxy.close()));
      rmSync(this.dataRoot, { recursive: true, force: true });
      liveClusters.delete(this);
    })();
    await this.#destroyed;
  }

  #process(id: number): LocalNodeProcess {
    if (this.#destroyed !== undefined) {
      throw new LocalRuntimeError("CLUSTER_DESTROYED", `cluster ${this.#spec.runId} was destroyed`);
    }
    const node = this.#processes.get(id);
    if (node === undefined) {
      throw new LocalRuntimeError("UNKNOWN_NODE", `node ${id} is not in cluster ${this.#spec.runId} (nodes ${this.#spec.nodeIds.join(", ")})`);
    }
    return node;
  }

  #link(source: number, target: number): LinkFaults {
    const link = this.#links.get(linkKey(source, target));
    if (link === undefined) {
      throw new LocalRuntimeError("UNKNOWN_NODE", `no link ${source}->${target} in cluster ${this.#spec.runId} (nodes ${this.#spec.nodeIds.join(", ")})`);
    }
    return link;
  }
}

/** NetworkControl over the link table: every call only flips rules the proxies consult per chunk. */
class LocalNetwork implements NetworkControl {
  constructor(
    readonly nodeIds: readonly number[],
    readonly link: (source: number, target: number) => LinkFaults,
    readonly links: readonly LinkFaults[],
  ) {}

  /** The proxies do everything in userland. */
  async capabilities(signal?: AbortSignal): Promise<NetworkCapabilities> {
    signal?.throwIfAborted();
    return ALL_NETWORK_FAULTS;
  }

  async block(from: number, to: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.link(from, to).setBlocked(true);
  }

  async heal(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    for (const link of this.links) {
      link.clear();
    }
  }

  /** Like netem loss on the receivers' side: every link INTO the given nodes. */
  async loss(nodeIds: number[], probability: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    for (const target of nodeIds) {
      for (const source of this.nodeIds) {
        if (source !== target) {
          this.link(source, target).setLossProbability(probability);
        }
      }
    }
  }

  /** Like netem delay on the given nodes' interfaces: every link OUT of them is held delay ± jitter. */
  async latency(nodeIds: number[], delayMs: number, jitterMs: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    for (const source of nodeIds) {
      for (const target of this.nodeIds) {
        if (source !== target) {
          this.link(source, target).setDelay(delayMs, jitterMs);
        }
      }
    }
  }

  /** Like tbf on the given nodes' interfaces: one token bucket per node, shared by every link out of it. */
  async bandwidth(nodeIds: number[], bitsPerSecond: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    for (const source of nodeIds) {
      const bucket = TokenBucket.forRate(bitsPerSecond);
      for (const target of this.nodeIds) {
        if (source !== target) {
          this.link(source, target).setThrottle(bucket);
        }
      }
    }
  }
}

function linkKey(source: number, target: number): string {
  return `${source}->${target}`;
}

function validateSpec(spec: ClusterSpec): void {
  if (spec.nodeIds.length === 0) {
    throw new RangeError(`cluster ${spec.runId}: nodeIds is empty`);
  }
  if (new Set(spec.nodeIds).size !== spec.nodeIds.length || !spec.nodeIds.every((id) => Number.isSafeInteger(id) && id > 0)) {
    throw new RangeError(`cluster ${spec.runId}: nodeIds must be distinct positive integers, got ${spec.nodeIds.join(", ")}`);
  }
  if (!/^[A-Za-z0-9._-]+$/.test(spec.runId)) {
    throw new RangeError(`cluster runId "${spec.runId}" must be letters, digits, ".", "_" or "-" (it names a temp directory)`);
  }
}

/** <project>/bin/raftlab-node.js, found from this file whether it runs from source or from dist/. */
function defaultCliPath(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(directory, "package.json");
    if (existsSync(manifest) && isRaftlabManifest(manifest)) {
      return path.join(directory, "bin", "raftlab-node.js");
    }
    const parent = path.dirname(directory);
    if (parent === directory) {
      throw new LocalRuntimeError("NOT_BUILT", `cannot find raftlab's package.json above ${fileURLToPath(import.meta.url)} to locate bin/raftlab-node.js`);
    }
    directory = parent;
  }
}

function isRaftlabManifest(manifestPath: string): boolean {
  try {
    return (JSON.parse(readFileSync(manifestPath, "utf8")) as { name?: unknown }).name === "raftlab";
  } catch {
    return false;
  }
}
