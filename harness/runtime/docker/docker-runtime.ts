// The Docker runtime: each node is a container of the raftlab-node image on a per-run internal
// network with a fixed address, so faults can be made with iptables inside each container.
// Everything it creates is labelled raftlab.run=<runId>, which `raftlab clean` relies on.
import Docker from "dockerode";
import { daemonAnswers } from "./daemon-ping.js";
import { mkdir } from "node:fs/promises";
import { DockerCluster, writeStartConfig, type DockerNode } from "./docker-cluster.js";
import { DockerRuntimeError } from "../../../docker/image/docker-error.js";
import { ensureNodeImage, type BuildPolicy } from "../../../docker/image/image.js";
import { nodeLabel, runLabel } from "./labels.js";
import {
  clientPort,
  createRunNetwork,
  daemonSubnets,
  nodeCommand,
  peerPort,
  pluginArgument,
  SECRET_DIRECTORY,
  SECRET_FILE_NAME,
  validateSpec,
} from "./node-container.js";
import { registerCleanup } from "./signal-cleanup.js";
import { singleFileTar } from "./secret-archive.js";
import { newSecret } from "../../../node/server/config/secret-file.js";
import { subnetAddresses } from "./subnet.js";
import { ALL_NETWORK_FAULTS, type Cluster, type ClusterSpec, type NetworkCapabilities, type Runtime } from "../runtime.js";
import { probeHostNetem } from "./host-netem.js";
import { dockerNetworkCapabilities } from "./network.js";

export { DockerCluster } from "./docker-cluster.js";
export { DockerRuntimeError } from "../../../docker/image/docker-error.js";
export { nodeLabel, runLabel } from "./labels.js";

export { clientPort, peerPort } from "./node-container.js";

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

  available(signal?: AbortSignal): Promise<boolean> {
    return daemonAnswers(this.docker, signal);
  }

  /**
   * Containers share the host's kernel, so a probe on the host answers for netem before anything is
   * created; where the host cannot be asked (see host-netem.ts) latency is left to the cluster.
   */
  async networkCapabilities(signal?: AbortSignal): Promise<Partial<NetworkCapabilities>> {
    const netem = await probeHostNetem(signal);
    if (netem === undefined) {
      const { latency: _unknown, ...known } = ALL_NETWORK_FAULTS;
      return known;
    }
    return dockerNetworkCapabilities(netem);
  }

  async createCluster(spec: ClusterSpec, signal?: AbortSignal, clusterOptions: DockerClusterOptions = {}): Promise<DockerCluster> {
    validateSpec(spec);
    if (!(await this.available(signal))) {
      throw new DockerRuntimeError("DOCKER_UNAVAILABLE", "the Docker daemon does not answer (is dockerd running, and may this user use its socket?)");
    }
    const docker = this.docker;
    const log = this.options.log ?? (() => {});
    const image =
      this.options.image ??
      nonEmpty(process.env["RAFTLAB_DOCKER_IMAGE"]) ??
      (await ensureNodeImage({ signal, log, docker, ...(this.options.build ? { build: this.options.build } : {}) }));
    await mkdir(spec.logDir, { recursive: true });
    const labels = { [runLabel]: spec.runId };
    const networkName = `raftlab-${spec.runId}`;
    const subnet = await createRunNetwork(
      docker,
      { name: networkName, driver: "bridge", internal: true, labels, usedSubnets: () => daemonSubnets(docker) },
      signal,
    );
    const addresses = subnetAddresses(subnet);
    const nodes: DockerNode[] = spec.nodeIds.map((id) => {
      const containerName = `raftlab-${spec.runId}-n${id}`;
      const address = addresses.nodeAddress(id);
      return {
        id,
        address,
        clientAddress: `${address}:${clientPort}`,
        containerName,
        volumeName: containerName,
        container: docker.getContainer(containerName),
      };
    });
    const secretText = newSecret();
    // A command of the caller's own may not read the start settings file (nodeCommand's does).
    const startConfig = clusterOptions.command === undefined;
    const cluster = new DockerCluster({
      startConfig,
      docker,
      secret: Buffer.from(secretText, "utf8"),
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
        const command =
          clusterOptions.command?.({ id: node.id, address: node.address }) ??
          nodeCommand({
            spec,
            id: node.id,
            peers: new Map(nodes.map((peer) => [peer.id, `${peer.address}:${peerPort}`])),
            peerClients: new Map(nodes.map((peer) => [peer.id, peer.clientAddress])),
            plugin: plugin.argument,
            extraNodeArgs: this.options.extraNodeArgs,
          });
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
            Binds: plugin.bind === undefined ? [] : [`${plugin.bind.source}:${plugin.bind.target}:ro`],
            LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "2" } },
          },
          NetworkingConfig: { EndpointsConfig: { [networkName]: { IPAMConfig: { IPv4Address: node.address } } } },
        });
        // Into the container's own filesystem (it survives kill and start), root-only.
        await node.container.putArchive(singleFileTar(SECRET_FILE_NAME, Buffer.from(`${secretText}\n`, "utf8")), { path: SECRET_DIRECTORY });
        if (startConfig) {
          await writeStartConfig(node, false);
        }
      }
      await cluster.launch(signal);
    } catch (error) {
      await cluster.destroy().catch(() => {});
      throw error;
    }
    log(`docker: run ${spec.runId}: ${nodes.length} nodes on ${networkName} (${subnet}), image ${image}`);
    return cluster;
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
