// Preflight for the swarm runtime: the daemon raftlab talks to must be a swarm manager new enough for
// services with NET_ADMIN, the workload's placement must fit the swarm's ready nodes, and every host
// that will run a node must answer on its Docker API as that very swarm node. Each failure is a
// refusal (exit 254) found before anything is created.
import type Docker from "dockerode";
import { deadlineAfter } from "../../../lib/deadline.js";
import { connectHost, hostsFileDirectory, type HostsFile } from "./hosts-file.js";
import { placeNodes } from "./placement.js";
import { SwarmRuntimeError } from "./swarm-error.js";
import { parseHostPort } from "../../../lib/host-port.js";

/** Services with CapabilityAdd (NET_ADMIN for iptables and tc) came with API 1.41, Docker 20.10. */
export const apiVersionMin = "1.41";
const answerTimeoutMs = 10_000;

export interface SwarmHost {
  /** The swarm node's name (`docker node ls`). */
  name: string;
  swarmNodeId: string;
  /** This host's own Docker API: exec, kill, pause, logs and volumes of the tasks it runs. */
  docker: Docker;
  /** The endpoint as configured, for messages. */
  endpoint: string;
  /** Where the harness reaches ports published on this host. */
  clientHost: string;
}

export interface SwarmTopology {
  /** Node id -> the host that runs it. */
  placement: ReadonlyMap<number, SwarmHost>;
  /** Every host that runs a node, once each. */
  hosts: readonly SwarmHost[];
}

export interface PreflightOptions {
  manager: Docker;
  /** How raftlab reaches the manager ("the local socket", or $DOCKER_HOST), for messages. */
  managerEndpoint: string;
  /** Whether the manager's daemon runs on this machine (its published ports answer on loopback). */
  managerLocal: boolean;
  hostsFile: HostsFile | undefined;
  nodeIds: readonly number[];
  hosts?: readonly string[] | undefined;
  nodesPerHost?: number | undefined;
  signal?: AbortSignal | undefined;
}

interface SwarmNodeInfo {
  ID: string;
  Description?: { Hostname?: string };
  Spec?: { Availability?: string };
  Status?: { State?: string; Addr?: string };
  ManagerStatus?: { Addr?: string };
}

interface DaemonInfo {
  Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string };
}

export async function preflight(options: PreflightOptions): Promise<SwarmTopology> {
  const { manager, signal } = options;
  const info = await ask(options.managerEndpoint, signal, (abortSignal) => call<DaemonInfo>(manager, "info", abortSignal));
  const state = info.Swarm?.LocalNodeState ?? "inactive";
  if (state !== "active") {
    throw new SwarmRuntimeError(
      "SWARM_NOT_MANAGER",
      `the Docker daemon at ${options.managerEndpoint} is not in a swarm (state "${state}"): run \`docker swarm init\` there ` +
        "(one host is a swarm too), or join it to a swarm as a manager",
    );
  }
  if (info.Swarm?.ControlAvailable !== true) {
    throw new SwarmRuntimeError(
      "SWARM_NOT_MANAGER",
      `the Docker daemon at ${options.managerEndpoint} is a swarm worker, not a manager: run raftlab against a manager (or \`docker node promote\` this host)`,
    );
  }
  await requireApiVersion(manager, options.managerEndpoint, signal);
  const nodes = (await manager.listNodes()) as SwarmNodeInfo[];
  const usable = nodes.filter((node) => node.Status?.State === "ready" && (node.Spec?.Availability ?? "active") === "active");
  const byName = new Map<string, SwarmNodeInfo[]>();
  for (const node of usable) {
    const name = node.Description?.Hostname ?? node.ID;
    byName.set(name, [...(byName.get(name) ?? []), node]);
  }
  const placementByName = placeNodes({ nodeIds: options.nodeIds, available: [...byName.keys()], hosts: options.hosts, nodesPerHost: options.nodesPerHost });
  const hosts = new Map<string, SwarmHost>();
  for (const name of new Set(placementByName.values())) {
    const candidates = byName.get(name) ?? [];
    if (candidates.length !== 1 || candidates[0] === undefined) {
      throw new SwarmRuntimeError("SWARM_PLACEMENT", `${candidates.length} ready swarm nodes are named ${name}: give each host its own name`);
    }
    hosts.set(name, await connectSwarmHost(candidates[0], name, info.Swarm?.NodeID, options));
  }
  const placement = new Map([...placementByName].map(([id, name]) => [id, hosts.get(name)!]));
  return { placement, hosts: [...hosts.values()] };
}

async function connectSwarmHost(node: SwarmNodeInfo, name: string, managerNodeId: string | undefined, options: PreflightOptions): Promise<SwarmHost> {
  const entry = options.hostsFile?.hosts.get(name);
  const isManager = node.ID === managerNodeId;
  let connection: { docker: Docker; endpoint: string; local: boolean; endpointHost: string | undefined };
  if (entry !== undefined && options.hostsFile !== undefined) {
    connection = connectHost(entry, hostsFileDirectory(options.hostsFile.file), options.hostsFile.file);
  } else if (isManager) {
    // On one host (or for the manager's own tasks) the daemon raftlab already talks to serves.
    connection = { docker: options.manager, endpoint: options.managerEndpoint, local: options.managerLocal, endpointHost: undefined };
  } else {
    throw new SwarmRuntimeError(
      "SWARM_HOST_UNREACHABLE",
      `swarm node ${name} is to run nodes, but ${options.hostsFile === undefined ? "no hosts file is given" : `${options.hostsFile.file} has no entry for it`}: ` +
        "raftlab needs each host's Docker API to inject faults in its containers (swarm.hosts_file in the workload, or $RAFTLAB_SWARM_HOSTS)",
    );
  }
  const where = `swarm node ${name} (${connection.endpoint})`;
  const hostInfo = await ask(where, options.signal, (abortSignal) => call<DaemonInfo>(connection.docker, "info", abortSignal));
  if (hostInfo.Swarm?.NodeID !== node.ID) {
    throw new SwarmRuntimeError(
      "SWARM_HOST_UNREACHABLE",
      `${where}: that daemon is swarm node ${hostInfo.Swarm?.NodeID || "(none)"}, not ${node.ID}: the hosts file maps ${name} to the wrong endpoint`,
    );
  }
  await requireApiVersion(connection.docker, where, options.signal);
  return {
    name,
    swarmNodeId: node.ID,
    docker: connection.docker,
    endpoint: connection.endpoint,
    clientHost: entry?.address ?? (connection.local ? "127.0.0.1" : (swarmAddress(node) ?? connection.endpointHost ?? name)),
  };
}

/** The node's address in the swarm; a manager may report 0.0.0.0 there, and its manager address instead. */
function swarmAddress(node: SwarmNodeInfo): string | undefined {
  const addr = node.Status?.Addr;
  if (addr !== undefined && addr !== "" && addr !== "0.0.0.0") {
    return addr;
  }
  const manager = node.ManagerStatus?.Addr;
  return manager === undefined ? undefined : parseHostPort(manager).host;
}

async function requireApiVersion(docker: Docker, where: string, signal: AbortSignal | undefined): Promise<void> {
  const version = await ask(where, signal, (abortSignal) => call<{ ApiVersion?: string; Version?: string }>(docker, "version", abortSignal));
  if (compareApiVersions(version.ApiVersion ?? "0", apiVersionMin) < 0) {
    throw new SwarmRuntimeError(
      "SWARM_API_TOO_OLD",
      `${where} runs Docker ${version.Version ?? "?"} (API ${version.ApiVersion ?? "?"}): services with NET_ADMIN (cap_add), which the ` +
        `iptables and tc faults need, take API ${apiVersionMin} or later (Docker 20.10)`,
    );
  }
}

/** Compares "1.41"-style versions numerically: negative when a < b. */
export function compareApiVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split(".").map(Number);
  const [bMajor = 0, bMinor = 0] = b.split(".").map(Number);
  return aMajor !== bMajor ? aMajor - bMajor : aMinor - bMinor;
}

/** A Docker call that must answer within answerTimeoutMs; a silent or refusing daemon is a refusal. */
async function ask<T>(where: string, signal: AbortSignal | undefined, work: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = deadlineAfter(answerTimeoutMs, signal);
  try {
    return await work(deadline.signal);
  } catch (error) {
    signal?.throwIfAborted();
    throw new SwarmRuntimeError(
      "SWARM_HOST_UNREACHABLE",
      `the Docker API of ${where} does not answer: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  } finally {
    deadline.dispose();
  }
}

/** dockerode's info, version and ping take an abortSignal option that its type declarations omit. */
function call<T>(docker: Docker, method: "info" | "version", abortSignal: AbortSignal): Promise<T> {
  const bound = docker[method].bind(docker) as unknown as (options: { abortSignal: AbortSignal }) => Promise<T>;
  return bound({ abortSignal });
}
