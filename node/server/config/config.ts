// The node command line (the contract shared by the server, Docker and local runtimes):
// raftlab node --id 1 --listen HOST:PORT --client-listen HOST:PORT --peers 1=HOST:PORT,...
//   [--peer-clients 1=HOST:PORT,...] --plugin kv|counter|queue|PATH --data DIR [--cluster-id ID]
//   [--unsafe stale-reads,ack-before-commit,vote-without-log-check] [--join]
//   --secret-file PATH | --insecure
// plus tuning flags with defaults chosen for sub-second failover on loopback.
import { isLogLevel, type LogLevel } from "../../../lib/logger.js";

import { UNSAFE_FLAGS, type UnsafeFlag } from "../../protocol/unsafe-flags.js";
import { configFileArgs } from "./config-file.js";
import { ConfigError } from "./config-error.js";
import { readSecretFile } from "./secret-file.js";
import { HostPortError, parseHostPort, type ParseHostPortOptions } from "../../../lib/host-port.js";

export { ConfigError, UNSAFE_FLAGS, type UnsafeFlag };

export interface NodeConfig {
  id: number;
  /** host:port this node's peer transport listens on. */
  listen: string;
  /** host:port of the client port. */
  clientListen: string;
  /** Address THIS node dials for each peer (its own entry is its listen address or absent with --join). */
  peers: Map<number, string>;
  /** Peers' client addresses, for NOT_LEADER hints. */
  peerClients: Map<number, string>;
  plugin: string;
  dataDir: string;
  clusterId: string;
  unsafe: Set<UnsafeFlag>;
  /** Not in the initial configuration: start empty and wait to be added. */
  join: boolean;
  /**
   * The cluster secret read from --secret-file: peers prove it to each other in the handshake and
   * clients prove it before administrative requests. Undefined only with --insecure.
   */
  secret: Uint8Array | undefined;
  /**
   * etcd's --initial-cluster-state: "existing" says this member ran before, so an empty data
   * directory was wiped and the node refuses to bootstrap it again (it could vote twice in a term).
   */
  initialClusterState: "new" | "existing";
  /**
   * Stop when stdin closes: the local runtime holds the write end of a pipe, which the kernel closes
   * when the harness dies in any way (SIGKILL included), so no node outlives its run.
   */
  exitWithParent: boolean;
  /** Take a snapshot and compact the log every this many applied entries. */
  snapshotEvery: number;
  tickMs: number;
  /**
   * Election timeout in ticks, randomised in [n, 2n). Default 20 × 10 ms = 200–400 ms: with 150 ms,
   * fsync stalls on a busy shared disk delayed followers' answers past CheckQuorum and caused
   * spurious elections; failover stays well under a second.
   */
  electionTicks: number;
  heartbeatTicks: number;
  /** Deadline for a command, read or membership request. */
  requestTimeoutMs: number;
  /** Cap of the replicated at-most-once session table (clients remembered). */
  sessionsMax: number;
  logLevel: LogLevel;
  /** Test only: keep unsynced file data in memory so that kill -9 loses it like a power cut. */
  simulatePowerLoss: boolean;
  /** Test only: accept `failpoint` requests on the client port (closed by default). */
  failpoints: boolean;
}

/** The node's clock and election timeout when the flags do not set them (tests derive waits from them). */
export const DEFAULT_TICK_MS = 10;
export const DEFAULT_ELECTION_TICKS = 20;

export const NODE_USAGE = `usage: raftlab node --id N --listen HOST:PORT --client-listen HOST:PORT
         --peers 1=HOST:PORT,2=HOST:PORT,... [--peer-clients 1=HOST:PORT,...]
         --plugin kv|counter|queue|PATH --data DIR [--cluster-id ID] [--join]
         --secret-file PATH | --insecure
         [--initial-cluster-state new|existing]
         [--unsafe ${UNSAFE_FLAGS.join(",")}]
         [--snapshot-every N] [--tick-ms N] [--election-ticks N] [--heartbeat-ticks N]
         [--request-timeout-ms N] [--sessions-max N] [--log-level debug|info|warn|error]
         [--exit-with-parent] [--simulate-power-loss] [--failpoints] [--config FILE]
--exit-with-parent stops the node when its stdin closes (a harness holds it open through a pipe).
Node ids are positive integers, also written n1, n2, ... --config reads any of these flags from a
YAML (or JSON) mapping keyed by flag name without dashes; flags on the command line override it.
--secret-file names a file (mode 0600 or stricter) holding the cluster's shared secret, at least
32 characters; without it the node refuses to start unless --insecure says to run unauthenticated.
`;

const VALUE_FLAGS = new Set([
  "--id",
  "--listen",
  "--client-listen",
  "--peers",
  "--peer-clients",
  "--plugin",
  "--data",
  "--cluster-id",
  "--unsafe",
  "--snapshot-every",
  "--tick-ms",
  "--election-ticks",
  "--heartbeat-ticks",
  "--request-timeout-ms",
  "--sessions-max",
  "--log-level",
  "--config",
  "--initial-cluster-state",
  "--secret-file",
]);
const BOOLEAN_FLAGS = new Set(["--join", "--exit-with-parent", "--insecure", "--simulate-power-loss", "--failpoints"]);

/** Parses argv (after "node"); throws ConfigError naming the flag (or config-file setting) at fault. */
export function parseNodeArgs(argv: readonly string[]): NodeConfig {
  const values = new Map<string, string>();
  const booleans = new Set<string>();
  collectFlags(argv, values, booleans);
  const configPath = values.get("--config");
  if (configPath !== undefined) {
    // The file first, then the command line's own flags on top.
    const fromFile = new Map<string, string>();
    collectFlags(configFileArgs(configPath, VALUE_FLAGS, BOOLEAN_FLAGS), fromFile, booleans);
    const takenFromFile = [...fromFile.keys()].filter((flag) => !values.has(flag));
    for (const flag of takenFromFile) values.set(flag, fromFile.get(flag)!);
    try {
      return configFromFlags(values, booleans);
    } catch (error) {
      // Name the file and its setting when the bad value came from there.
      if (error instanceof ConfigError && takenFromFile.includes(error.flag)) {
        throw new ConfigError("--config", `${configPath}: ${error.flag.slice(2)}: ${error.detail}`);
      }
      throw error;
    }
  }
  return configFromFlags(values, booleans);
}

function configFromFlags(values: ReadonlyMap<string, string>, booleans: ReadonlySet<string>): NodeConfig {
  const required = (flag: string): string => {
    const value = values.get(flag);
    if (value === undefined || value === "") {
      throw new ConfigError(flag, "is required");
    }
    return value;
  };
  const id = parseNodeId("--id", required("--id"));
  const join = booleans.has("--join");
  const peers = parseAddressMap("--peers", required("--peers"));
  const listen = parseAddress("--listen", required("--listen"), { listen: true });
  if (!join && !peers.has(id)) {
    throw new ConfigError("--peers", `must list this node's own id ${id} (or start it with --join)`);
  }
  const initialClusterState = values.get("--initial-cluster-state") ?? "new";
  if (initialClusterState !== "new" && initialClusterState !== "existing") {
    throw new ConfigError("--initial-cluster-state", `"${initialClusterState}" is not one of new, existing`);
  }
  const logLevel = values.get("--log-level") ?? "info";
  if (!isLogLevel(logLevel)) {
    throw new ConfigError("--log-level", `"${logLevel}" is not one of debug, info, warn, error`);
  }
  const electionTicks = parseInteger("--election-ticks", values.get("--election-ticks") ?? String(DEFAULT_ELECTION_TICKS), 2, 10_000);
  const heartbeatTicks = parseInteger("--heartbeat-ticks", values.get("--heartbeat-ticks") ?? "3", 1, 10_000);
  if (heartbeatTicks >= electionTicks) {
    throw new ConfigError("--heartbeat-ticks", `must be below --election-ticks (${electionTicks})`);
  }
  const config: NodeConfig = {
    id,
    listen,
    clientListen: parseAddress("--client-listen", required("--client-listen"), { listen: true }),
    peers,
    peerClients: values.has("--peer-clients") ? parseAddressMap("--peer-clients", values.get("--peer-clients")!) : new Map(),
    plugin: required("--plugin"),
    dataDir: required("--data"),
    clusterId: values.get("--cluster-id") ?? "raftlab",
    unsafe: parseUnsafe(values.get("--unsafe")),
    join,
    secret: undefined,
    initialClusterState,
    exitWithParent: booleans.has("--exit-with-parent"),
    simulatePowerLoss: booleans.has("--simulate-power-loss"),
    failpoints: booleans.has("--failpoints"),
    snapshotEvery: parseInteger("--snapshot-every", values.get("--snapshot-every") ?? "10000", 1, 1e9),
    tickMs: parseInteger("--tick-ms", values.get("--tick-ms") ?? String(DEFAULT_TICK_MS), 1, 10_000),
    electionTicks,
    heartbeatTicks,
    requestTimeoutMs: parseInteger("--request-timeout-ms", values.get("--request-timeout-ms") ?? "5000", 1, 3_600_000),
    sessionsMax: parseInteger("--sessions-max", values.get("--sessions-max") ?? "10000", 1, 10_000_000),
    logLevel,
  };
  config.secret = credential(values.get("--secret-file"), booleans.has("--insecure"));
  return config;
}

/** The secret from --secret-file; undefined with --insecure; one of the two is required. */
function credential(secretFile: string | undefined, insecure: boolean): Uint8Array | undefined {
  if (secretFile !== undefined && insecure) {
    throw new ConfigError("--insecure", "cannot be combined with --secret-file");
  }
  if (insecure) {
    return undefined;
  }
  if (secretFile === undefined || secretFile === "") {
    throw new ConfigError(
      "--secret-file",
      "is required: peers and administrative clients authenticate with the cluster secret in this file " +
        "(pass --insecure to run without authentication, for a throwaway local experiment)",
    );
  }
  return readSecretFile("--secret-file", secretFile);
}

function collectFlags(argv: readonly string[], values: Map<string, string>, booleans: Set<string>): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const [flag, inline] = arg.startsWith("--") && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    if (BOOLEAN_FLAGS.has(flag)) {
      if (inline !== undefined) {
        throw new ConfigError(flag, "takes no value");
      }
      booleans.add(flag);
    } else if (VALUE_FLAGS.has(flag)) {
      const value = inline ?? argv[++i];
      if (value === undefined || (inline === undefined && value.startsWith("--"))) {
        throw new ConfigError(flag, "needs a value");
      }
      if (values.has(flag)) {
        throw new ConfigError(flag, "given twice");
      }
      values.set(flag, value);
    } else {
      throw new ConfigError(flag, flag.startsWith("-") ? "unknown flag" : "unexpected argument");
    }
  }
}

/** A node id: a positive u32, written "3" or "n3". */
function parseNodeId(flag: string, text: string): number {
  return parseInteger(flag, /^n\d+$/.test(text) ? text.slice(1) : text, 1, 0xffff_ffff);
}

function parseInteger(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) {
    throw new ConfigError(flag, `"${text}" is not a non-negative integer`);
  }
  const value = Number(text);
  if (value < min || value > max) {
    throw new ConfigError(flag, `${value} is outside ${min}..${max}`);
  }
  return value;
}

/** HOST:PORT (lib/host-port.ts rules); `listen` addresses may give port 0 (the OS picks one). */
function parseAddress(flag: string, text: string, options: ParseHostPortOptions = {}): string {
  try {
    parseHostPort(text, options);
  } catch (error) {
    if (error instanceof HostPortError) {
      throw new ConfigError(flag, error.message);
    }
    throw error;
  }
  return text;
}

function parseAddressMap(flag: string, text: string): Map<number, string> {
  const map = new Map<number, string>();
  for (const item of text.split(",")) {
    const eq = item.indexOf("=");
    if (eq <= 0) {
      throw new ConfigError(flag, `"${item}" is not ID=HOST:PORT`);
    }
    const id = parseNodeId(flag, item.slice(0, eq));
    if (map.has(id)) {
      throw new ConfigError(flag, `node ${id} listed twice`);
    }
    map.set(id, parseAddress(flag, item.slice(eq + 1)));
  }
  return map;
}

function parseUnsafe(text: string | undefined): Set<UnsafeFlag> {
  const flags = new Set<UnsafeFlag>();
  if (text === undefined || text === "") {
    return flags;
  }
  for (const item of text.split(",")) {
    if (!(UNSAFE_FLAGS as readonly string[]).includes(item)) {
      throw new ConfigError("--unsafe", `"${item}" is not one of ${UNSAFE_FLAGS.join(", ")}`);
    }
    flags.add(item as UnsafeFlag);
  }
  return flags;
}
