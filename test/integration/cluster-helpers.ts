// Real node processes on 127.0.0.1 for integration tests: `node bin/raftlab-node.js ...` per
// node, ports from port-0 probes, a temp data dir per node, stderr kept for assertions and dumped
// when a test fails. Requests go through the client library's NodeConnection (real frames),
// authenticated with the cluster's secret, which every node reads from <root>/cluster-secret.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { appendFile, mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Json, Operation } from "../../plugins/api.js";
import { NodeConnection, type RequestBody } from "../../node/client/node-connection.js";
import type { ClientResponse, NodeStatus } from "../../node/protocol/client-protocol.js";
import { freePorts } from "../../harness/runtime/local/free-port.js";
import { newSecret, writeSecretFile } from "../../node/server/config/secret-file.js";
import { parseHostPort } from "../../lib/host-port.js";
import { sleep } from "../../lib/deadline.js";

export { freePorts };

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI_PATH = path.join(REPO_ROOT, "bin/raftlab-node.js");

export function requireBuild(): void {
  if (!existsSync(CLI_PATH)) {
    throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (npm test builds before vitest)`);
  }
}

export interface TestNode {
  id: number;
  peerAddress: string;
  clientAddress: string;
  dataDir: string;
  process: ChildProcess | undefined;
  exited: Promise<number | null> | undefined;
  /** Everything the node wrote to stderr/stdout, across restarts. */
  output: string;
  join: boolean;
}

export interface ClusterOptions {
  size: number;
  plugin?: string;
  /** Extra flags for every node, e.g. ["--snapshot-every", "100"]. */
  flags?: string[];
  /** Open-files limit (`ulimit -n`) for every node process. */
  fdLimit?: number;
}

export class TestCluster {
  readonly nodes = new Map<number, TestNode>();
  readonly #connections = new Map<number, NodeConnection>();
  #initialVoters: number[] = [];
  /** The cluster secret every node and this helper's connections use. */
  readonly secret: Uint8Array;
  readonly secretFile: string;

  private constructor(
    readonly root: string,
    readonly plugin: string,
    readonly flags: string[],
    readonly fdLimit: number | undefined,
  ) {
    const secret = newSecret();
    this.secretFile = path.join(root, "cluster-secret");
    writeSecretFile(this.secretFile, secret);
    this.secret = Buffer.from(secret, "utf8");
  }

  static async create(options: ClusterOptions): Promise<TestCluster> {
    requireBuild();
    const root = await mkdtemp(path.join(os.tmpdir(), "raftlab-it-"));
    const cluster = new TestCluster(root, options.plugin ?? "kv", options.flags ?? [], options.fdLimit);
    const ids = Array.from({ length: options.size }, (_, k) => k + 1);
    cluster.#initialVoters = ids;
    const ports = await freePorts(ids.length * 2);
    for (const id of ids) {
      cluster.#define(id, ports[(id - 1) * 2]!, ports[(id - 1) * 2 + 1]!, false);
    }
    try {
      await Promise.all(ids.map((id) => cluster.start(id)));
    } catch (error) {
      await cluster.destroy(); // no test holds this cluster yet: do not leave processes behind
      throw error;
    }
    return cluster;
  }

  #define(id: number, peerPort: number, clientPort: number, join: boolean): TestNode {
    const node: TestNode = {
      id,
      peerAddress: `127.0.0.1:${peerPort}`,
      clientAddress: `127.0.0.1:${clientPort}`,
      dataDir: path.join(this.root, `n${id}`),
      process: undefined,
      exited: undefined,
      output: "",
      join,
    };
    this.nodes.set(id, node);
    return node;
  }

  node(id: number): TestNode {
    const node = this.nodes.get(id);
    if (node === undefined) {
      throw new Error(`no node ${id} in this cluster`);
    }
    return node;
  }

  /** A new node outside the configuration, started with --join (add it with addMember). */
  async addJoiner(id: number): Promise<TestNode> {
    const [peerPort, clientPort] = await freePorts(2);
    const node = this.#define(id, peerPort!, clientPort!, true);
    await this.start(id);
    return node;
  }

  args(id: number): string[] {
    const node = this.node(id);
    const peerIds = node.join ? [...this.nodes.keys()] : this.#initialVoters;
    const peers = peerIds.map((peer) => `${peer}=${this.node(peer).peerAddress}`).join(",");
    const clients = [...this.nodes.values()].map((peer) => `${peer.id}=${peer.clientAddress}`).join(",");
    return [
      CLI_PATH,
      "--id",
      String(id),
      "--listen",
      node.peerAddress,
      "--client-listen",
      node.clientAddress,
      "--peers",
      peers,
      "--peer-clients",
      clients,
      "--plugin",
      this.plugin,
      "--data",
      node.dataDir,
      "--secret-file",
      this.secretFile,
      ...(node.join ? ["--join"] : []),
      ...this.flags,
    ];
  }

  /** Spawns the node (again) and waits until its client port accepts connections. */
  async start(id: number, extraFlags: string[] = []): Promise<void> {
    const node = this.node(id);
    if (node.process !== undefined) {
      throw new Error(`node ${id} is already running`);
    }
    const argv = [process.execPath, ...this.args(id), ...extraFlags];
    const child =
      this.fdLimit === undefined
        ? spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] })
        : spawn("/bin/sh", ["-c", `ulimit -n ${this.fdLimit} && exec "$@"`, "sh", ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    node.process = child;
    const logPath = path.join(this.root, `node-${id}.log`);
    const collect = (chunk: Buffer): void => {
      node.output += chunk.toString("utf8");
      void appendFile(logPath, chunk).catch(() => undefined);
    };
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    node.exited = new Promise((resolve) =>
      child.once("exit", (code) => {
        node.process = undefined;
        resolve(code);
      }),
    );
    await waitFor(`node ${id}'s client port`, 10_000, async () => {
      if (node.process !== child) {
        throw new Error(`node ${id} exited during start-up:\n${tail(node.output)}`);
      }
      return (await canConnect(node.clientAddress)) ? true : undefined;
    });
  }

  /** Starts a node and resolves with its exit code, for nodes expected to refuse to start. */
  async runToExit(id: number, timeoutMs = 10_000): Promise<number | null> {
    const node = this.node(id);
    const child = spawn(process.execPath, this.args(id), { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    clearTimeout(timer);
    node.output += output;
    return code;
  }

  /** kill -9 */
  async kill(id: number): Promise<void> {
    const node = this.node(id);
    this.#dropConnection(id);
    node.process?.kill("SIGKILL");
    await node.exited;
  }

  /** SIGTERM; resolves with the exit code. */
  async stop(id: number): Promise<number | null> {
    const node = this.node(id);
    this.#dropConnection(id);
    node.process?.kill("SIGTERM");
    return (await node.exited) ?? null;
  }

  running(): number[] {
    return [...this.nodes.values()].filter((node) => node.process !== undefined).map((node) => node.id);
  }

  #dropConnection(id: number): void {
    this.#connections.get(id)?.close();
    this.#connections.delete(id);
  }

  connection(id: number): NodeConnection {
    let connection = this.#connections.get(id);
    if (connection === undefined) {
      connection = new NodeConnection({ nodeId: id, address: this.node(id).clientAddress, connectTimeoutMs: 2000, secret: this.secret });
      this.#connections.set(id, connection);
    }
    return connection;
  }

  request(id: number, body: RequestBody, timeoutMs = 8000): Promise<ClientResponse> {
    return this.connection(id).request(body, { timeoutMs });
  }

  async status(id: number): Promise<NodeStatus | undefined> {
    try {
      const response = await this.request(id, { type: "status" }, 1000);
      return "status" in response ? response.status : undefined;
    } catch {
      return undefined;
    }
  }

  /** Waits until a running node is leader and every running voter agrees on it. */
  async waitForLeader(timeoutMs = 10_000, among: number[] = this.running()): Promise<number> {
    return waitFor("a leader every running node agrees on", timeoutMs, async () => {
      const statuses = await Promise.all(among.map((id) => this.status(id)));
      const leaders = statuses.filter((s) => s?.role === "leader");
      if (leaders.length !== 1) {
        return undefined;
      }
      const leader = leaders[0]!.nodeId;
      const voters = statuses.filter((s) => s !== undefined && s.voters.includes(s.nodeId));
      return voters.every((s) => s!.leader === leader) ? leader : undefined;
    });
  }

  /** Sends a command or read to the current leader, following NOT_LEADER and retrying UNAVAILABLE. */
  async invoke(body: RequestBody, timeoutMs = 10_000): Promise<ClientResponse> {
    return waitFor(`an answer to ${JSON.stringify(body)}`, timeoutMs, async () => {
      const leader = await this.waitForLeader(timeoutMs);
      const response = await this.request(leader, body).catch(() => undefined);
      if (response === undefined || (!response.ok && (response.code === "NOT_LEADER" || response.code === "UNAVAILABLE"))) {
        return undefined;
      }
      return response;
    });
  }

  /** Makes `id` the leader by leadership transfer, retrying if the leadership moves meanwhile. */
  async makeLeader(id: number, timeoutMs = 15_000): Promise<void> {
    await waitFor(`node ${id} to become the leader`, timeoutMs, async () => {
      const leader = await this.waitForLeader(timeoutMs);
      if (leader === id) {
        return true;
      }
      await this.request(leader, { type: "transferLeader", to: id }).catch(() => undefined);
      return undefined;
    });
  }

  /**
   * Puts until acknowledged. A put is idempotent, so an indeterminate answer (LEADERSHIP_LOST,
   * TIMEOUT: a spurious election on a loaded machine) is retried rather than failing the test.
   */
  async put(key: string, value: string): Promise<void> {
    const response = await waitFor(`put ${key}`, 20_000, async () => {
      const answer = await this.invoke({ type: "command", op: { f: "put", key, value } });
      return !answer.ok && (answer.code === "LEADERSHIP_LOST" || answer.code === "TIMEOUT") ? undefined : answer;
    });
    if (!response.ok) {
      throw new Error(`put ${key}: ${response.code} ${response.message}`);
    }
  }

  async get(key: string, nodeId?: number): Promise<Json> {
    const op: Operation = { f: "get", key, value: null };
    const response = nodeId === undefined ? await this.invoke({ type: "read", op }) : await this.request(nodeId, { type: "read", op });
    if (!response.ok || !("result" in response)) {
      throw new Error(`get ${key}: ${JSON.stringify(response)}`);
    }
    return response.result;
  }

  /** Last lines of every node's output, for a failing test's message. */
  dumpLogs(lines = 30): string {
    return [...this.nodes.values()].map((node) => `--- node ${node.id} ---\n${tail(node.output, lines)}`).join("\n");
  }

  async destroy(): Promise<void> {
    for (const connection of this.#connections.values()) {
      connection.close();
    }
    this.#connections.clear();
    await Promise.all(
      [...this.nodes.values()].map(async (node) => {
        node.process?.kill("SIGKILL");
        await node.exited;
      }),
    );
    await rm(this.root, { recursive: true, force: true });
  }
}

/** Polls `probe` until it returns a value (not undefined) or the time is up. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) {
        return value;
      }
    } catch (error) {
      lastError = error;
      if ((error as Error).message.includes("exited during start-up")) {
        throw error;
      }
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError === undefined ? "" : `: ${(lastError as Error).message}`}`);
    }
    await sleep(50);
  }
}

async function canConnect(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(parseHostPort(address));
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Parsed JSON log lines of a node's output (non-JSON lines skipped). */
export function logRecords(output: string): Record<string, unknown>[] {
  return output.split("\n").flatMap((line) => {
    try {
      const value = JSON.parse(line) as unknown;
      return typeof value === "object" && value !== null ? [value as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

/** For afterEach: prints the nodes' logs when the test failed, destroys the cluster, returns undefined. */
export async function tearDownCluster(cluster: TestCluster | undefined, failed: boolean): Promise<undefined> {
  if (failed && cluster !== undefined) {
    console.error(cluster.dumpLogs());
  }
  await cluster?.destroy();
  return undefined;
}
