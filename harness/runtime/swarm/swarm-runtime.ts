// The swarm runtime: the Docker runtime's model (a container per node, faults by iptables and tc
// inside it, labelled objects, cleanup on signals) on a Docker Swarm of one or more hosts. Each node
// is a one-replica service pinned to its host; the nodes talk over an internal overlay network with
// a subnet raftlab chooses; each node's client port is published on its own host for the harness.
import Docker from "dockerode";
import { daemonAnswers } from "../docker/daemon-ping.js";
import { mkdir } from "node:fs/promises";
import type { BuildPolicy } from "../../../docker/image/image.js";
import { daemonSharesOurKernel } from "../docker/host-netem.js";
import { nodeLabel, runLabel } from "../docker/labels.js";
import { createRunNetwork, daemonSubnets, nodeCommand, peerPort, pluginArgument, validateSpec } from "../docker/node-container.js";
import { registerCleanup } from "../docker/signal-cleanup.js";
import { ALL_NETWORK_FAULTS, type ClusterSpec, type NetworkCapabilities, type Runtime } from "../runtime.js";
import { readHostsFile } from "./hosts-file.js";
import { distributeNodeImage } from "./image-distribution.js";
import { SwarmCluster, type SwarmNode } from "./swarm-cluster.js";
import { SwarmRuntimeError } from "./swarm-error.js";
import { preflight } from "./swarm-hosts.js";
import { removeRunObjects } from "./swarm-leftovers.js";
import { swarmSecretFile } from "./service-spec.js";
import { newSecret } from "../../../node/server/config/secret-file.js";

export { SwarmCluster } from "./swarm-cluster.js";
export { SwarmRuntimeError } from "./swarm-error.js";

export interface SwarmRuntimeOptions {
  /** The manager's API (default: $DOCKER_HOST, else the local socket). */
  manager?: Docker;
  log?: (message: string) => void;
  /** YAML mapping swarm node names to Docker endpoints (default: $RAFTLAB_SWARM_HOSTS; none: one host). */
  hostsFile?: string | undefined;
  /** The swarm nodes to use, in order, a name repeated to hold several nodes (default: all ready ones). */
  hosts?: readonly string[] | undefined;
  /** Nodes on each host before the next is used (default: spread). */
  nodesPerHost?: number | undefined;
  /** A registry image each host pulls (default: build raftlab-node and load it onto each host). */
  image?: string | undefined;
  build?: BuildPolicy | undefined;
  extraNodeArgs?: readonly string[];
  /** Per node, until its task runs and again until its client port accepts (default 60 s). */
  readyTimeoutMs?: number;
  stopGraceSeconds?: number;
}

/** Service names are DNS labels on the peer network: at most 63 characters. */
const serviceNameLengthMax = 63;

export class SwarmRuntime implements Runtime {
  readonly name = "swarm" as const;
  private readonly manager: Docker;

  constructor(private readonly options: SwarmRuntimeOptions = {}) {
    this.manager = options.manager ?? new Docker();
  }

  available(signal?: AbortSignal): Promise<boolean> {
    return daemonAnswers(this.manager, signal);
  }

  /**
   * The same iptables and tc rules as the Docker runtime; but this host's kernel does not answer
   * for netem on the swarm's other hosts, so latency is left to the cluster (it asks a node).
   */
  async networkCapabilities(signal?: AbortSignal): Promise<Partial<NetworkCapabilities>> {
    signal?.throwIfAborted();
    const { latency: _askANode, ...known } = ALL_NETWORK_FAULTS;
    return known;
  }

  async createCluster(spec: ClusterSpec, signal?: AbortSignal): Promise<SwarmCluster> {
    validateSpec(spec);
    const serviceName = (id: number): string => `raftlab-${spec.runId}-n${id}`;
    const longest = serviceName(Math.max(...spec.nodeIds));
    if (longest.length > serviceNameLengthMax) {
      throw new SwarmRuntimeError("SWARM_PLACEMENT", `service name ${longest} is over ${serviceNameLengthMax} characters: use a shorter run id`);
    }
    const log = this.options.log ?? (() => {});
    const manager = this.manager;
    const dockerHost = process.env["DOCKER_HOST"];
    const hostsFilePath = this.options.hostsFile ?? nonEmpty(process.env["RAFTLAB_SWARM_HOSTS"]);
    const topology = await preflight({
      manager,
      managerEndpoint: nonEmpty(dockerHost) ?? "the local socket",
      managerLocal: daemonSharesOurKernel(dockerHost),
      hostsFile: hostsFilePath === undefined ? undefined : await readHostsFile(hostsFilePath),
      nodeIds: spec.nodeIds,
      hosts: this.options.hosts,
      nodesPerHost: this.options.nodesPerHost,
      signal,
    });
    const image = await distributeNodeImage({
      builder: manager,
      hosts: topology.hosts,
      registryImage: this.options.image ?? nonEmpty(process.env["RAFTLAB_DOCKER_IMAGE"]),
      build: this.options.build,
      log,
      signal,
    });
    await mkdir(spec.logDir, { recursive: true });
    const labels = { [runLabel]: spec.runId };
    const nodes: SwarmNode[] = spec.nodeIds.map((id) => {
      const host = topology.placement.get(id)!;
      // Until its first task runs, the node's container is one that does not exist (faults wait for it).
      return {
        id,
        host,
        serviceName: serviceName(id),
        volumeName: serviceName(id),
        address: "",
        container: host.docker.getContainer(serviceName(id)),
        publishedPort: undefined,
        taskId: undefined,
        forceUpdate: 0,
      };
    });
    const peerNetworkName = `raftlab-${spec.runId}`;
    const clientNetworkName = `raftlab-${spec.runId}-clients`;
    const usedSubnets = async (): Promise<string[]> => (await Promise.all([manager, ...topology.hosts.map((host) => host.docker)].map(daemonSubnets))).flat();
    const plugin = pluginArgument(spec.plugin);
    const readyTimeoutMs = this.options.readyTimeoutMs ?? 60_000;
    const stopGraceSeconds = this.options.stopGraceSeconds ?? 5;
    let cluster: SwarmCluster | undefined;
    // Until the cluster exists, a signal removes what is labelled with this run id.
    const cleanupEarly = (): Promise<void> => removeEverything();
    const removeEverything = async (): Promise<void> => {
      await removeRunObjects({ manager, hosts: topology.hosts, runId: spec.runId });
    };
    let unregister = registerCleanup(cleanupEarly);
    try {
      const peerSubnet = await createRunNetwork(
        manager,
        { name: peerNetworkName, driver: "overlay", internal: true, attachable: true, labels, usedSubnets },
        signal,
      );
      const clientSubnet = await createRunNetwork(
        manager,
        { name: clientNetworkName, driver: "overlay", internal: false, attachable: true, labels, usedSubnets, avoid: [peerSubnet] },
        signal,
      );
      const peerNetworkId = ((await manager.getNetwork(peerNetworkName).inspect()) as { Id: string }).Id;
      for (const node of nodes) {
        signal?.throwIfAborted();
        await node.host.docker.createVolume({ Name: node.volumeName, Labels: { ...labels, [nodeLabel]: String(node.id) } });
      }
      const peers = new Map(nodes.map((node) => [node.id, `${node.serviceName}:${peerPort}`]));
      const secretText = newSecret();
      const secretName = `raftlab-${spec.runId}`;
      const createdSecret = (await manager.createSecret({
        Name: secretName,
        Labels: labels,
        Data: Buffer.from(`${secretText}\n`, "utf8").toString("base64"),
      })) as { id: string };
      const secret = { id: createdSecret.id, name: secretName };
      cluster = new SwarmCluster({
        manager,
        runId: spec.runId,
        nodes,
        hosts: topology.hosts,
        peerNetwork: { name: peerNetworkName, id: peerNetworkId, subnet: peerSubnet },
        clientNetwork: { name: clientNetworkName, subnet: clientSubnet },
        logDir: spec.logDir,
        secret: Buffer.from(secretText, "utf8"),
        readyTimeoutMs,
        stopGraceSeconds,
        serviceOptions: (node) => ({
          name: node.serviceName,
          labels: { ...labels, [nodeLabel]: String(node.id) },
          image,
          // Clients know every node's id and address, so leader hints need no client addresses.
          command: nodeCommand({
            spec,
            id: node.id,
            peers,
            plugin: plugin.argument,
            extraNodeArgs: this.options.extraNodeArgs,
            secretFile: swarmSecretFile,
            // A restart replaces the task with an updated command (swarm-cluster.ts, restartCommand).
            startConfigFile: false,
          }),
          secret,
          nodeId: node.id,
          swarmNodeId: node.host.swarmNodeId,
          volumeName: node.volumeName,
          peerNetwork: peerNetworkName,
          clientNetwork: clientNetworkName,
          pluginBind: plugin.bind,
          stopGraceSeconds,
        }),
      });
      const created = cluster;
      unregister();
      unregister = registerCleanup(() => created.destroy());
      created.setCleanupRegistration(unregister);
      await created.launch(signal);
      const placed = nodes.map((node) => `n${node.id}@${node.host.name}`).join(" ");
      log(`swarm: run ${spec.runId}: ${nodes.length} nodes (${placed}) on ${peerNetworkName} (${peerSubnet}), image ${image}`);
      return created;
    } catch (error) {
      await (cluster === undefined ? removeEverything() : cluster.destroy()).catch(() => {});
      unregister();
      throw error;
    }
  }
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === "" ? undefined : text;
}
