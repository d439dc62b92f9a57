// `npm run bench:cluster [-- --json] [--seconds 15] [--concurrency 1,16,64] [--nodes 3] [--data-root DIR]
//   [--profile-dir DIR] [--log-dir DIR] [--modes put,mixed] [--no-failover]`: a local kv cluster of real node processes on loopback, no faults.
// Closed-loop clients (each waits for its answer before sending again) at each concurrency, first
// all puts, then 50/50 get/put; prints ops/s and p50/p99/p999 latency per (mode, concurrency).
// Then the failover window: kill -9 the leader under load and measure the longest stretch with no
// successful operation.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, openSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ClientResponse } from "../node/protocol/client-protocol.js";
import { freePorts } from "../harness/runtime/local/free-port.js";
import { BenchConnection } from "./bench-connection.js";
import { sleep } from "../lib/deadline.js";
import { newSecret, writeSecretFile } from "../node/server/config/secret-file.js";

// dist/bench/cluster.js -> <root>/bin/raftlab-node.js
const CLI_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/raftlab-node.js");
const KEYS = 1000;
const VALUE = "v".repeat(32);

interface Options {
  json: boolean;
  seconds: number;
  concurrency: number[];
  nodes: number;
  profileDir: string | undefined;
  failover: boolean;
  modes: Mode[];
  /** Where the nodes' data directories go (e.g. /dev/shm to take fsync out of a CPU profile). */
  dataRoot: string;
  /** Directory for the nodes' info-level logs (node-<id>.log); without it, warnings go to stderr. */
  logDir: string | undefined;
}

type Mode = "put" | "mixed";

function parseOptions(argv: string[]): Options {
  const options: Options = {
    json: false,
    seconds: 15,
    concurrency: [1, 16, 64],
    nodes: 3,
    profileDir: undefined,
    failover: true,
    modes: ["put", "mixed"],
    dataRoot: os.tmpdir(),
    logDir: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) {
        throw new Error(`${flag}: needs a value`);
      }
      return next;
    };
    if (flag === "--json") {
      options.json = true;
    } else if (flag === "--seconds") {
      options.seconds = Number(value());
    } else if (flag === "--concurrency") {
      options.concurrency = value().split(",").map(Number);
    } else if (flag === "--nodes") {
      options.nodes = Number(value());
    } else if (flag === "--profile-dir") {
      options.profileDir = path.resolve(value());
    } else if (flag === "--log-dir") {
      options.logDir = path.resolve(value());
    } else if (flag === "--data-root") {
      options.dataRoot = path.resolve(value());
    } else if (flag === "--no-failover") {
      options.failover = false;
    } else if (flag === "--modes") {
      options.modes = value().split(",") as Mode[];
    } else {
      throw new Error(`${flag}: unknown flag (known: --json --seconds --concurrency --nodes --profile-dir --data-root --log-dir --no-failover --modes)`);
    }
  }
  return options;
}

interface BenchNode {
  id: number;
  clientAddress: string;
  args: string[];
  logPath: string | undefined;
  process: ChildProcess | undefined;
  exited: Promise<void>;
}

class BenchCluster {
  readonly nodes: BenchNode[] = [];
  leader = 0;
  readonly #connections = new Map<number, BenchConnection>();

  private constructor(readonly root: string) {}

  static async start(size: number, options: Options): Promise<BenchCluster> {
    const { profileDir, dataRoot, logDir } = options;
    if (!existsSync(CLI_PATH)) {
      throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first`);
    }
    const cluster = new BenchCluster(await mkdtemp(path.join(dataRoot, "raftlab-bench-")));
    if (logDir !== undefined) {
      mkdirSync(logDir, { recursive: true });
    }
    const ports = await freePorts(size * 2);
    const secretFile = path.join(cluster.root, "cluster-secret");
    writeSecretFile(secretFile, newSecret());
    const peers = Array.from({ length: size }, (_, k) => `${k + 1}=127.0.0.1:${ports[k * 2]}`).join(",");
    const clients = Array.from({ length: size }, (_, k) => `${k + 1}=127.0.0.1:${ports[k * 2 + 1]}`).join(",");
    for (let id = 1; id <= size; id++) {
      const profile = profileDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", profileDir];
      const args = [
        ...profile,
        CLI_PATH,
        "--id",
        String(id),
        "--listen",
        `127.0.0.1:${ports[(id - 1) * 2]}`,
        "--client-listen",
        `127.0.0.1:${ports[(id - 1) * 2 + 1]}`,
        "--peers",
        peers,
        "--peer-clients",
        clients,
        "--plugin",
        "kv",
        "--data",
        path.join(cluster.root, `n${id}`),
        "--log-level",
        logDir === undefined ? "warn" : "info",
        "--secret-file",
        secretFile,
        // The nodes end with the bench, even when it is killed (they hold our stdin pipe).
        "--exit-with-parent",
      ];
      const logPath = logDir === undefined ? undefined : path.join(logDir, `node-${id}.log`);
      cluster.nodes.push({ id, clientAddress: `127.0.0.1:${ports[(id - 1) * 2 + 1]}`, args, logPath, process: undefined, exited: Promise.resolve() });
    }
    for (const node of cluster.nodes) {
      cluster.#spawn(node);
    }
    await cluster.findLeader(15_000);
    return cluster;
  }

  #spawn(node: BenchNode): void {
    const stderr = node.logPath === undefined ? "inherit" : openSync(node.logPath, "a");
    const child = spawn(process.execPath, node.args, { stdio: ["pipe", "ignore", stderr] });
    node.process = child;
    node.exited = new Promise((resolve) => child.once("exit", () => resolve()));
  }

  connection(id: number): BenchConnection {
    let connection = this.#connections.get(id);
    if (connection === undefined || connection.closed) {
      connection = new BenchConnection(this.nodes[id - 1]!.clientAddress);
      connection.ready.catch(() => undefined);
      this.#connections.set(id, connection);
    }
    return connection;
  }

  /** Polls status on the live nodes until one says it leads. */
  async findLeader(timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      for (const node of this.nodes) {
        if (node.process === undefined) {
          continue;
        }
        const response = await withTimeout(this.connection(node.id).request({ type: "status" }), 500);
        if (response !== undefined && "status" in response && response.status.role === "leader") {
          this.leader = node.id;
          return node.id;
        }
      }
      await sleep(20);
    }
    throw new Error(`no leader within ${timeoutMs} ms`);
  }

  async kill(id: number): Promise<void> {
    const node = this.nodes[id - 1]!;
    node.process?.kill("SIGKILL");
    await node.exited;
    node.process = undefined;
  }

  async stop(): Promise<void> {
    for (const connection of this.#connections.values()) {
      connection.close();
    }
    for (const node of this.nodes) {
      node.process?.kill("SIGTERM"); // SIGTERM so --cpu-prof profiles get written
    }
    await Promise.all(this.nodes.map((node) => node.exited));
    await rm(this.root, { recursive: true, force: true });
  }
}

interface RunResult {
  ok: number;
  errors: number;
  /** Failed answers by error code (CONNECTION: the connection dropped before an answer). */
  errorCodes: Record<string, number>;
  latenciesMs: number[];
  successTimesMs: number[];
}

/** Closed-loop workers against the current leader for `seconds`; follows leader changes. */
async function runLoad(cluster: BenchCluster, mode: Mode, concurrency: number, seconds: number, onTick?: (elapsedMs: number) => void): Promise<RunResult> {
  const result: RunResult = { ok: 0, errors: 0, errorCodes: {}, latenciesMs: [], successTimesMs: [] };
  const started = performance.now();
  const endAt = started + seconds * 1000;
  let unique = 0;
  let findingLeader: Promise<number> | undefined;
  const worker = async (): Promise<void> => {
    while (performance.now() < endAt) {
      const key = `k${Math.floor(Math.random() * KEYS)}`;
      const isRead = mode === "mixed" && Math.random() < 0.5;
      const body = isRead
        ? ({ type: "read", op: { f: "get", key, value: null } } as const)
        : ({ type: "command", op: { f: "put", key, value: `${VALUE}${unique++}` } } as const);
      const sentAt = performance.now();
      const response: ClientResponse | undefined = await cluster.connection(cluster.leader).request(body);
      const now = performance.now();
      if (response !== undefined && response.ok) {
        result.ok += 1;
        result.latenciesMs.push(now - sentAt);
        result.successTimesMs.push(now - started);
        continue;
      }
      result.errors += 1;
      const code = response === undefined ? "CONNECTION" : response.ok ? "?" : response.code;
      result.errorCodes[code] = (result.errorCodes[code] ?? 0) + 1;
      if (response !== undefined && !response.ok && response.code === "NOT_LEADER" && response.leader !== undefined) {
        cluster.leader = response.leader.nodeId;
        continue;
      }
      findingLeader ??= cluster.findLeader(10_000).finally(() => (findingLeader = undefined));
      await findingLeader.catch(() => sleep(50));
    }
  };
  const ticker = onTick === undefined ? undefined : setInterval(() => onTick(performance.now() - started), 10);
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  clearInterval(ticker);
  return result;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  const cluster = await BenchCluster.start(options.nodes, options);
  try {
    for (const mode of options.modes) {
      for (const concurrency of options.concurrency) {
        const result = await runLoad(cluster, mode, concurrency, options.seconds);
        const sorted = result.latenciesMs.sort((a, b) => a - b);
        const line = {
          mode,
          concurrency,
          ops_per_s: Math.round(result.ok / options.seconds),
          p50_ms: round(percentile(sorted, 50)),
          p99_ms: round(percentile(sorted, 99)),
          p999_ms: round(percentile(sorted, 99.9)),
          errors: result.errors,
          error_codes: result.errorCodes,
        };
        process.stdout.write(
          options.json
            ? `${JSON.stringify(line)}\n`
            : `${mode.padEnd(6)} c=${String(concurrency).padEnd(3)} ${String(line.ops_per_s).padStart(7)} ops/s  p50 ${line.p50_ms} ms  p99 ${line.p99_ms} ms  p999 ${line.p999_ms} ms  errors ${line.errors}${line.errors > 0 ? ` ${JSON.stringify(line.error_codes)}` : ""}\n`,
        );
      }
    }
    if (options.failover) {
      const killAfterMs = 3000;
      let killed = false;
      const victim = cluster.leader;
      const result = await runLoad(cluster, "mixed", 16, Math.max(8, options.seconds), (elapsedMs) => {
        if (!killed && elapsedMs >= killAfterMs) {
          killed = true;
          void cluster.kill(victim);
        }
      });
      let windowMs = 0;
      const times = result.successTimesMs.sort((a, b) => a - b);
      for (let k = 1; k < times.length; k++) {
        windowMs = Math.max(windowMs, times[k]! - times[k - 1]!);
      }
      const line = { mode: "failover", window_ms: Math.round(windowMs), killed: victim, new_leader: cluster.leader };
      process.stdout.write(
        options.json
          ? `${JSON.stringify(line)}\n`
          : `failover: no successful op for ${line.window_ms} ms after kill -9 of leader ${victim} (new leader ${cluster.leader})\n`,
      );
    }
  } finally {
    await cluster.stop();
  }
  return 0;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  const result = await Promise.race([promise, timeout]);
  clearTimeout(timer);
  return result;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench:cluster: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
