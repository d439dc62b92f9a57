// What every container-based runtime (docker, swarm) gives a node the same way: its ports, its
// command line, how a third-party plugin reaches it, which cluster specs map onto Docker names, and
// a network of its own on a free subnet. The runtimes differ in where containers run, not in these.
import type Docker from "dockerode";
import { existsSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { isPluginPath } from "../../../plugins/registry.js";
import { DockerRuntimeError } from "../../../docker/image/docker-error.js";
import { nodeImageCliPath } from "../../../docker/image/image.js";
import { freeSubnets, nodeIdMax, subnetAddresses } from "./subnet.js";
import type { ClusterSpec } from "../runtime.js";

export const peerPort = 7000;
export const clientPort = 7001;
/** Where a third-party plugin's directory is mounted (read-only) in each container. */
const pluginMountPoint = "/plugin";

export interface NodeCommandOptions {
  spec: ClusterSpec;
  id: number;
  /** Every node's peer address (host:port) as the nodes dial each other, this node's included. */
  peers: ReadonlyMap<number, string>;
  /** Where clients reach each node, for leader hints; omitted when clients know every node already. */
  peerClients?: ReadonlyMap<number, string>;
  /** The --plugin argument (a builtin name, or the plugin's path inside the container). */
  plugin: string;
  extraNodeArgs?: readonly string[] | undefined;
  /** Where the container finds the cluster secret; default SECRET_DIRECTORY/SECRET_FILE_NAME. */
  secretFile?: string | undefined;
  /**
   * Whether the node reads the start settings file (default true: the docker runtime writes it);
   * false where restarts change the command instead (swarm, with restartCommand).
   */
  startConfigFile?: boolean;
}

/** Where each container holds the run's cluster secret (written by putArchive before it starts). */
export const SECRET_DIRECTORY = "/etc";
export const SECRET_FILE_NAME = "raftlab-cluster-secret";

/**
 * Where a container's node reads its start settings (--config), in the container's own filesystem
 * (it survives kill and start, and is outside the /data volume a fault may wipe). The runtime
 * writes `initial-cluster-state: new` before the first start and `existing` once it started, so a
 * node restarted on an empty data directory refuses to bootstrap again, as the local runtime makes
 * it (etcd's --initial-cluster-state existing). The command line overrides the file.
 */
export const START_CONFIG_DIRECTORY = "/etc";
export const START_CONFIG_FILE_NAME = "raftlab-node-start.yaml";

/** The start settings file's content: whether this member ran before (see START_CONFIG_FILE_NAME). */
export function startConfigText(startedBefore: boolean): string {
  return `initial-cluster-state: ${startedBefore ? "existing" : "new"}\n`;
}

/** A node's command for every start after its first: it says the member ran before, unless it joins. */
export function restartCommand(command: readonly string[]): string[] {
  return command.includes("--join") ? [...command] : [...command, "--initial-cluster-state", "existing"];
}

/** The node's command line inside a container (image entry, ports 7000/7001, data at /data). */
export function nodeCommand(options: NodeCommandOptions): string[] {
  const { spec } = options;
  const joined = (map: ReadonlyMap<number, string>): string => [...map].map(([id, address]) => `${id}=${address}`).join(",");
  return [
    "node",
    nodeImageCliPath,
    "--id",
    String(options.id),
    "--listen",
    `0.0.0.0:${peerPort}`,
    "--client-listen",
    `0.0.0.0:${clientPort}`,
    "--peers",
    joined(options.peers),
    ...(options.peerClients === undefined ? [] : ["--peer-clients", joined(options.peerClients)]),
    "--plugin",
    options.plugin,
    "--data",
    "/data",
    "--cluster-id",
    spec.runId,
    "--secret-file",
    options.secretFile ?? `${SECRET_DIRECTORY}/${SECRET_FILE_NAME}`,
    ...(options.startConfigFile === false ? [] : ["--config", `${START_CONFIG_DIRECTORY}/${START_CONFIG_FILE_NAME}`]),
    ...(spec.unsafe.length > 0 ? ["--unsafe", spec.unsafe.join(",")] : []),
    ...(spec.nodeFlags ?? []),
    ...(options.extraNodeArgs ?? []),
  ];
}

/**
 * A builtin plugin passes by name (the node rejects unknown names). A plugin given by path (told
 * apart as the plugin registry does) is loaded at the SAME path inside the container: its package
 * root (the nearest directory above it with a package.json) is bind-mounted read-only at its host
 * path, so the plugin's relative imports (e.g. "../api.js") and its own node_modules resolve
 * exactly as on the host.
 */
export function pluginArgument(plugin: string): { argument: string; bind?: { source: string; target: string } } {
  if (!isPluginPath(plugin)) {
    return { argument: plugin };
  }
  const hostPath = resolve(plugin);
  if (!existsSync(hostPath)) {
    throw new DockerRuntimeError("DOCKER_BAD_SPEC", `plugin module ${hostPath} (from "${plugin}") does not exist on the host`);
  }
  const mountRoot = packageRoot(dirname(hostPath)) ?? dirname(hostPath);
  if (imageOwnedPath(mountRoot)) {
    // Mounting there would hide the image's own files: mount just the plugin's directory instead.
    return { argument: `${pluginMountPoint}/${basename(hostPath)}`, bind: { source: dirname(hostPath), target: pluginMountPoint } };
  }
  return { argument: hostPath, bind: { source: mountRoot, target: mountRoot } };
}

function packageRoot(directory: string): string | undefined {
  for (let current = directory; ; current = dirname(current)) {
    if (existsSync(join(current, "package.json"))) {
      return current;
    }
    if (dirname(current) === current) {
      return undefined;
    }
  }
}

/** Paths the node image itself uses, which a bind mount must not cover. */
function imageOwnedPath(path: string): boolean {
  const imageDirectories = ["/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/app", "/data", "/proc", "/sys", "/dev", "/run"];
  // Under /tmp is fine (only /tmp itself, where tsx keeps its cache, must stay writable).
  return path === "/" || path === "/tmp" || imageDirectories.some((directory) => path === directory || path.startsWith(`${directory}/`));
}

/** Checks that the spec maps onto Docker names (run id) and addresses (node ids). */
export function validateSpec(spec: ClusterSpec): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(spec.runId)) {
    throw new DockerRuntimeError("DOCKER_BAD_SPEC", `runId "${spec.runId}" must be 1-63 letters, digits, "_", "." or "-" (it names containers and networks)`);
  }
  if (spec.nodeIds.length === 0 || new Set(spec.nodeIds).size !== spec.nodeIds.length) {
    throw new DockerRuntimeError("DOCKER_BAD_SPEC", `nodeIds must be non-empty and distinct, got [${spec.nodeIds.join(", ")}]`);
  }
  for (const id of spec.nodeIds) {
    if (!Number.isInteger(id) || id < 1 || id > nodeIdMax) {
      throw new DockerRuntimeError("DOCKER_BAD_SPEC", `node id ${id} must be an integer in 1..${nodeIdMax}`);
    }
  }
}

export interface RunNetworkOptions {
  name: string;
  /** "bridge" on one daemon; "overlay" across a swarm (created through a manager). */
  driver: "bridge" | "overlay";
  /** No route out: the nodes reach each other only. */
  internal: boolean;
  /** Overlay only: plain containers may join too (handy for poking at a run by hand). */
  attachable?: boolean;
  labels: Record<string, string>;
  /** Subnets already taken anywhere the network will exist, besides this host's interfaces. */
  usedSubnets: () => Promise<string[]>;
  /** A subnet to avoid too (say, the other network of the same run, not created yet). */
  avoid?: readonly string[];
}

/** The subnets of every network a daemon knows (on a manager, the swarm's overlays too). */
export async function daemonSubnets(docker: Docker): Promise<string[]> {
  return (await docker.listNetworks()).flatMap((network) => (network.IPAM?.Config ?? []).map((config) => config.Subnet ?? ""));
}

/**
 * Creates a run's network on a free /24 of raftlab's range and returns that subnet, retrying when
 * a concurrent run takes the same /24 first (the daemon refuses overlapping pools).
 */
export async function createRunNetwork(docker: Docker, options: RunNetworkOptions, signal: AbortSignal | undefined): Promise<string> {
  const attemptsMax = 8;
  for (let attempt = 1; ; attempt += 1) {
    signal?.throwIfAborted();
    const used = [
      ...(await options.usedSubnets()),
      ...Object.values(networkInterfaces()).flatMap((interfaces) => (interfaces ?? []).map((entry) => entry.cidr ?? "")),
      ...(options.avoid ?? []),
    ];
    const subnet = freeSubnets(used, Math.floor(Math.random() * 256))[0];
    if (subnet === undefined) {
      throw new DockerRuntimeError("DOCKER_NO_SUBNET", "every /24 of 10.213.0.0/16 is in use; run `raftlab clean` to remove leftover networks");
    }
    const { gateway } = subnetAddresses(subnet);
    try {
      await docker.createNetwork({
        Name: options.name,
        Driver: options.driver,
        Internal: options.internal,
        ...(options.attachable === true ? { Attachable: true } : {}),
        CheckDuplicate: true,
        Labels: options.labels,
        IPAM: { Driver: "default", Config: [{ Subnet: subnet, Gateway: gateway }] },
      });
      return subnet;
    } catch (error) {
      const overlap = /overlap/i.test(error instanceof Error ? error.message : String(error));
      if (!overlap || attempt >= attemptsMax) {
        throw new DockerRuntimeError("DOCKER_NO_SUBNET", `creating network ${options.name} on ${subnet} failed: ${String(error)}`, { cause: error });
      }
    }
  }
}
