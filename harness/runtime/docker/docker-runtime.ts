// The Docker runtime: each node is a container of the raftlab-node image on a per-run internal
// network with a fixed address, so faults can be made with iptables inside each container.
// Everything it creates is labelled raftlab.run=<runId>, which `raftlab clean` relies on.
import Docker from "dockerode";
import { isPluginPath } from "../../../plugins/registry.js";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { DockerCluster, type DockerNode } from "./docker-cluster.js";
import { DockerRuntimeError } from "../../../docker/image/docker-error.js";
import { ensureNodeImage, nodeImageCliPath, type BuildPolicy } from "../../../docker/image/image.js";
import { nodeLabel, runLabel } from "./labels.js";
import { registerCleanup } from "./signal-cleanup.js";
import { freeSubnets, nodeIdMax, subnetAddresses } from "./subnet.js";
import type { Cluster, ClusterSpec, Runtime } from "../runtime.js";

export { DockerCluster } from "./docker-cluster.js";
export { DockerRuntimeError } from "../../../docker/image/docker-error.js";
export { nodeLabel, runLabel } from "./labels.js";

export const peerPort = 7000;
export const clientPort = 7001;
/** Where a third-party plugin's directory is mounted (read-only) in each container. */
const pluginMountPoint = "/plugin";
const pingTimeoutMs = 5_000;

export interface DockerRuntimeOptions {
  docker?: Docker;
  log?: (message: string) => void;
  /**
   * An image to use instead of building raftlab-node (it must hold node, sh, iptables and tc, and
   * the node entry at /app/bin/raftlab-node.js, as docker/Dockerfile makes). Default: $RAFTLAB_DOCKER_IMAGE.
   */
  image?: string;
  /** When to run `tsc` before building the image (see docker-image.ts). */
  build?: BuildPolicy;
  /** Extra flags for every node (e.g. ["--tick-ms", "10"]), appended after the contract flags. */
  extraNodeArgs?: readonly string[];
  /** Per node, until its client port accepts connections (default 30 s). */
  readyTimeoutMs?: number;
  /** Grace between SIGTERM and SIGKILL in stop(), in seconds (default 5). */
  stopGraceSeconds?: number;
}

/** Per-cluster options beyond the shared ClusterSpec. */
export interface DockerClusterOptions {
  /**
   * Replaces the node command line, e.g. a `node -e` one-liner that listens on the client port,
   * for tests of the runtime's mechanics without a Raft server.
   */
  command?: (node: { id: number; address: string }) => string[];
}

export class DockerRuntime implements Runtime {
  readonly name = "docker" as const;
  private readonly docker: Docker;

  constructor(private readonly options: DockerRuntimeOptions = {}) {
    this.docker = options.docker ?? new Docker();
  }

  async available(signal?: AbortSignal): Promise<boolean> {
    try {
      signal?.throwIfAborted();
      // A daemon that accepts the connection but hangs counts as unavailable after a few seconds.
      const deadline = AbortSignal.timeout(pingTimeoutMs);
      const abortSignal = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
      // dockerode's ping takes an abortSignal option that its type declarations omit.
      const ping = this.docker.ping.bind(this.docker) as unknown as (options: { abortSignal: AbortSignal }) => Promise<unknown>;
      await ping({ abortSignal });
      return true;
    } catch {
      return false;
    }
  }

  async createCluster(spec: ClusterSpec, signal?: AbortSignal, clusterOptions: DockerClusterOptions = {}): Promise<DockerCluster> {
    validateSpec(spec);
    if (!(await this.available(signal))) {
      throw new DockerRuntimeError("RAFTLAB_DOCKER_UNAVAILABLE", "the Docker daemon does not answer (is dockerd running, and may this user use its socket?)");
    }
    const docker = this.docker;
    const log = this.options.log ?? (() => {});
    const image = this.options.image ?? nonEmpty(process.env["RAFTLAB_DOCKER_IMAGE"]) ?? (await ensureNodeImage({ signal, log, docker, ...(this.options.build ? { build: this.options.build } : {}) }));
    await mkdir(spec.logDir, { recursive: true });
    const labels = { [runLabel]: spec.runId };
    const networkName = `raftlab-${spec.runId}`;
    const subnet = await createNetwork(docker, networkName, labels, signal);
    const addresses = subnetAddresses(subnet);
    const nodes: DockerNode[] = spec.nodeIds.map((id) => {
      const containerName = `raftlab-${spec.runId}-n${id}`;
      const address = addresses.nodeAddress(id);
      return { id, address, clientAddress: `${address}:${clientPort}`, containerName, volumeName: containerName, container: docker.getContainer(containerName) };
    });
    const cluster = new DockerCluster({
      docker,
      runId: spec.runId,
      networkName,
      subnet,
      nodes,
      logDir: spec.logDir,
      readyTimeoutMs: this.options.readyTimeoutMs ?? 30_000,
      stopGraceSeconds: this.options.stopGraceSeconds ?? 5,
    });
    cluster.setCleanupRegistration(registerCleanup(() => cluster.destroy()));
    try {
      const plugin = pluginArgument(spec.plugin);
      for (const node of nodes) {
        signal?.throwIfAborted();
        await docker.createVolume({ Name: node.volumeName, Labels: { ...labels, [nodeLabel]: String(node.id) } });
        const command = clusterOptions.command?.({ id: node.id, address: node.address }) ?? this.nodeCommand(spec, node, nodes, plugin.argument);
        await docker.createContainer({
          name: node.containerName,
          Hostname: `n${node.id}`,
          Image: image,
          Cmd: command,
          Labels: { ...labels, [nodeLabel]: String(node.id) },
          Env: [`RAFTLAB_NODE_ID=${node.id}`],
          HostConfig: {
            NetworkMode: networkName,
            CapAdd: ["NET_ADMIN"],
            // docker-init as PID 1 forwards SIGTERM and reaps; a bare node as PID 1 ignores SIGTERM.
            Init: true,
            Mounts: [{ Type: "volume", Source: node.volumeName, Target: "/data" }],
            Binds: plugin.bind === undefined ? [] : [plugin.bind],
            LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "2" } },
          },
          NetworkingConfig: { EndpointsConfig: { [networkName]: { IPAMConfig: { IPv4Address: node.address } } } },
        });
      }
      await cluster.launch(signal);
    } catch (error) {
      await cluster.destroy().catch(() => {});
      throw error;
    }
    log(`docker: run ${spec.runId}: ${nodes.length} nodes on ${networkName} (${subnet}), image ${image}`);
    return cluster;
  }

  private nodeCommand(spec: ClusterSpec, node: DockerNode, nodes: readonly DockerNode[], plugin: string): string[] {
    const peers = nodes.map((peer) => `${peer.id}=${peer.address}:${peerPort}`).join(",");
    const peerClients = nodes.map((peer) => `${peer.id}=${peer.clientAddress}`).join(",");
    return [
      "node",
      nodeImageCliPath,
      "--id", String(node.id),
      "--listen", `0.0.0.0:${peerPort}`,
      "--client-listen", `0.0.0.0:${clientPort}`,
      "--peers", peers,
      "--peer-clients", peerClients,
      "--plugin", plugin,
      "--data", "/data",
      "--cluster-id", spec.runId,
      ...(spec.unsafe.length > 0 ? ["--unsafe", spec.unsafe.join(",")] : []),
      ...(spec.nodeFlags ?? []),
      ...(this.options.extraNodeArgs ?? []),
    ];
  }
}

/** Creates the run's internal network on a free /24, retrying when a concurrent run takes it first. */
async function createNetwork(docker: Docker, name: string, labels: Record<string, string>, signal: AbortSignal | undefined): Promise<string> {
  const attemptsMax = 8;
  for (let attempt = 1; ; attempt += 1) {
    signal?.throwIfAborted();
    const used = [
      ...(await docker.listNetworks()).flatMap((network) => (network.IPAM?.Config ?? []).map((config) => config.Subnet ?? "")),
      ...Object.values(networkInterfaces()).flatMap((interfaces) => (interfaces ?? []).map((entry) => entry.cidr ?? "")),
    ];
    const subnet = freeSubnets(used, Math.floor(Math.random() * 256))[0];
    if (subnet === undefined) {
      throw new DockerRuntimeError("RAFTLAB_DOCKER_NO_SUBNET", "every /24 of 10.213.0.0/16 is in use; run `raftlab clean` to remove leftover networks");
    }
    const { gateway } = subnetAddresses(subnet);
    try {
      await docker.createNetwork({
        Name: name,
        Driver: "bridge",
        Internal: true,
        CheckDuplicate: true,
        Labels: labels,
        IPAM: { Driver: "default", Config: [{ Subnet: subnet, Gateway: gateway }] },
      });
      return subnet;
    } catch (error) {
      const overlap = /overlap/i.test(error instanceof Error ? error.message : String(error));
      if (!overlap || attempt >= attemptsMax) {
        throw new DockerRuntimeError("RAFTLAB_DOCKER_NO_SUBNET", `creating network ${name} on ${subnet} failed: ${String(error)}`, { cause: error });
      }
    }
  }
}

/**
 * A builtin plugin passes by name (the node rejects unknown names). A plugin given by path (told
 * apart as the plugin registry does) is loaded at the SAME path inside the container: its package
 * root (the nearest directory above it with a package.json) is bind-mounted read-only at its host
 * path, so the plugin's relative imports (e.g. "../api.js") and its own node_modules resolve
 * exactly as on the host.
 */
function pluginArgument(plugin: string): { argument: string; bind?: string } {
  if (!isPluginPath(plugin)) {
    return { argument: plugin };
  }
  const hostPath = resolve(plugin);
  if (!existsSync(hostPath)) {
    throw new DockerRuntimeError("RAFTLAB_DOCKER_BAD_SPEC", `plugin module ${hostPath} (from "${plugin}") does not exist on the host`);
  }
  const mountRoot = packageRoot(dirname(hostPath)) ?? dirname(hostPath);
  if (imageOwnedPath(mountRoot)) {
    // Mounting there would hide the image's own files: mount just the plugin's directory instead.
    return { argument: `${pluginMountPoint}/${basename(hostPath)}`, bind: `${dirname(hostPath)}:${pluginMountPoint}:ro` };
  }
  return { argument: hostPath, bind: `${mountRoot}:${mountRoot}:ro` };
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

function validateSpec(spec: ClusterSpec): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(spec.runId)) {
    throw new DockerRuntimeError("RAFTLAB_DOCKER_BAD_SPEC", `runId "${spec.runId}" must be 1-63 letters, digits, "_", "." or "-" (it names containers and networks)`);
  }
  if (spec.nodeIds.length === 0 || new Set(spec.nodeIds).size !== spec.nodeIds.length) {
    throw new DockerRuntimeError("RAFTLAB_DOCKER_BAD_SPEC", `nodeIds must be non-empty and distinct, got [${spec.nodeIds.join(", ")}]`);
  }
  for (const id of spec.nodeIds) {
    if (!Number.isInteger(id) || id < 1 || id > nodeIdMax) {
      throw new DockerRuntimeError("RAFTLAB_DOCKER_BAD_SPEC", `node id ${id} must be an integer in 1..${nodeIdMax}`);
    }
  }
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === "" ? undefined : text;
}

/** Whether a Docker daemon answers here (for choosing between the docker and local runtimes). */
export async function dockerAvailable(signal?: AbortSignal): Promise<boolean> {
  return new DockerRuntime().available(signal);
}

export type { Cluster };
