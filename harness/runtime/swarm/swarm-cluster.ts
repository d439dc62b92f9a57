// One run's cluster on a Docker Swarm: a service per node (one task), each pinned to its host, on an
// internal overlay network for peer traffic. Swarm starts the tasks; everything else goes to the
// container behind each task through its own host's Docker API: faults (iptables and tc by exec, as
// in the Docker runtime), kill -9, stop, pause, logs, volumes.
//
// Restarting a node: a task whose container exited cannot be started again (`docker start` fails
// with "network ... not found": the swarm released the task's network attachment when it ended), and
// scaling 0 -> 1 leaves a dead task's slot alone under restart condition none. So start() forces a
// service update, which replaces the task: the new container runs on the same host (placement
// constraint) with the same named volume at /data (the node's data survives, as after a kill in the
// Docker runtime) and the same published client port (pinned on the update, so clients keep their
// address), but a new address on the overlay network. Peers dial each other by service name, which
// resolves to the current task (endpoint mode dnsrr); every node's rules are rewritten for the new
// address as soon as Swarm allocates it, before the new container runs.
import type Docker from "dockerode";
import { assert } from "../../../lib/assert.js";
import { sleep } from "../../../lib/deadline.js";
import { formatHostPort } from "../../../lib/host-port.js";
import { tolerate, readLogTail } from "../docker/docker-cluster.js";
import { ContainerCluster } from "../docker/container-cluster.js";
import { peerPort, restartCommand } from "../docker/node-container.js";
import { waitForTcp } from "../docker/tcp-wait.js";
import type { Cluster, NodeEndpoint } from "../runtime.js";
import { nodeServiceSpec, type NodeServiceOptions } from "./service-spec.js";
import { SwarmRuntimeError } from "./swarm-error.js";
import type { SwarmHost } from "./swarm-hosts.js";
import { removeRunObjects } from "./swarm-leftovers.js";

export interface SwarmNode {
  id: number;
  host: SwarmHost;
  /** The service's name, which is also the node's name on the peer network. */
  serviceName: string;
  volumeName: string;
  /** The current task's address on the peer network; a restart changes it. */
  address: string;
  /** The current task's container, on `host`. */
  container: Docker.Container;
  /** The client port's port on the host, chosen by the host at the first start and kept after. */
  publishedPort: number | undefined;
  /** The current task, so a restart can tell the new task from the old. */
  taskId: string | undefined;
  forceUpdate: number;
}

export interface SwarmClusterParts {
  manager: Docker;
  runId: string;
  nodes: readonly SwarmNode[];
  /** Every host that runs a node. */
  hosts: readonly SwarmHost[];
  /** The service spec of each node, minus what changes from start to start. */
  serviceOptions: (node: SwarmNode) => Omit<NodeServiceOptions, "publishedPort" | "forceUpdate">;
  peerNetwork: { name: string; id: string; subnet: string };
  clientNetwork: { name: string; subnet: string };
  logDir: string;
  readyTimeoutMs: number;
  stopGraceSeconds: number;
  /** The cluster secret the services hold (as a Swarm secret); clients authenticate with it. */
  secret: Uint8Array;
}

interface SwarmTask {
  ID: string;
  DesiredState?: string;
  CreatedAt?: string;
  Status?: {
    State?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string };
    PortStatus?: { Ports?: { TargetPort?: number; PublishedPort?: number }[] };
  };
  NetworksAttachments?: { Network?: { ID?: string }; Addresses?: string[] }[];
}

const taskPollIntervalMs = 100;
const exitWaitMs = 30_000;
/** Task states after which a task never runs again. */
const endedStates = new Set(["complete", "shutdown", "failed", "rejected", "remove", "orphaned"]);

export class SwarmCluster extends ContainerCluster<SwarmNode> implements Cluster {
  readonly runtime = "swarm" as const;

  constructor(private readonly parts: SwarmClusterParts) {
    super(parts.nodes, parts.secret, parts.logDir);
  }

  get nodes(): readonly NodeEndpoint[] {
    return this.parts.nodes.map((node) => {
      assert(node.publishedPort !== undefined, `invariant: node ${node.id}'s client port is published once the cluster is launched`);
      return { id: node.id, clientAddress: formatHostPort(node.host.clientHost, node.publishedPort), peerAddress: formatHostPort(node.serviceName, peerPort) };
    });
  }

  /** Creates every node's service and waits until each client port accepts. */
  async launch(signal?: AbortSignal): Promise<void> {
    for (const node of this.parts.nodes) {
      signal?.throwIfAborted();
      await this.parts.manager.createService(
        nodeServiceSpec({ ...this.parts.serviceOptions(node), forceUpdate: node.forceUpdate }) as Docker.CreateServiceOptions,
      );
    }
    await Promise.all(this.parts.nodes.map((node) => this.waitForNewTask(node, signal)));
    await Promise.all(this.parts.nodes.map((node) => this.waitUntilReady(node, signal)));
  }

  async start(id: number, signal?: AbortSignal): Promise<void> {
    const node = this.node(id);
    signal?.throwIfAborted();
    if (await this.containerRunning(node)) {
      return;
    }
    const service = this.parts.manager.getService(node.serviceName);
    const version = ((await service.inspect()) as { Version: { Index: number } }).Version.Index;
    node.forceUpdate += 1;
    const options = this.parts.serviceOptions(node);
    // Every start after the first says the member ran before: a wiped data directory then refuses
    // to bootstrap again (etcd's --initial-cluster-state existing), as on the other runtimes.
    const spec = nodeServiceSpec({ ...options, command: restartCommand(options.command), publishedPort: node.publishedPort, forceUpdate: node.forceUpdate });
    await service.update({ version, ...spec });
    await this.waitForNewTask(node, signal, async () => {
      // The others' rules name the node's old address: rewrite them before the new task runs.
      await Promise.all(this.parts.nodes.filter((peer) => peer.id !== id).map((peer) => this.network.reconcile(peer.id, signal)));
    });
    await this.network.reconcile(id, signal);
    await this.waitUntilReady(node, signal);
  }

  async stop(id: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    await tolerate(this.node(id).container.stop({ t: this.parts.stopGraceSeconds }), [304, 404]);
  }

  async kill(id: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const node = this.node(id);
    // 409: not running (already dead), which is what kill() is for.
    await tolerate(node.container.kill({ signal: "SIGKILL" }), [404, 409]);
    const deadline = Date.now() + exitWaitMs;
    while (await this.containerRunning(node)) {
      if (Date.now() > deadline) {
        throw new SwarmRuntimeError("SWARM_TASK_FAILED", `node ${id}'s container on ${node.host.name} still runs ${exitWaitMs} ms after SIGKILL`);
      }
      await sleep(20, signal);
    }
  }

  protected async removeEverything(): Promise<void> {
    await this.closeLogs();
    const report = await removeRunObjects({ manager: this.parts.manager, hosts: this.parts.hosts, runId: this.parts.runId });
    if (report.failures.length > 0) {
      throw new SwarmRuntimeError("SWARM_TASK_FAILED", `destroying run ${this.parts.runId} left: ${report.failures.join("; ")}`);
    }
    this.unregisterCleanup();
  }

  /**
   * Waits for the node's next task (not `node.taskId`) to run, then points the node at its container
   * and follows its log. `onAddress` runs once the task's address on the peer network is known.
   */
  private async waitForNewTask(node: SwarmNode, signal: AbortSignal | undefined, onAddress?: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + this.parts.readyTimeoutMs;
    let addressSeen = false;
    for (;;) {
      signal?.throwIfAborted();
      const task = await this.latestTask(node);
      if (task !== undefined && task.ID !== node.taskId) {
        const address = this.peerAddressOf(task);
        if (address !== undefined && !addressSeen) {
          addressSeen = true;
          node.address = address;
          await onAddress?.();
        }
        const state = task.Status?.State ?? "new";
        const containerId = task.Status?.ContainerStatus?.ContainerID;
        if (state === "running" && containerId !== undefined && addressSeen) {
          node.taskId = task.ID;
          node.container = node.host.docker.getContainer(containerId);
          node.publishedPort ??= task.Status?.PortStatus?.Ports?.find((port) => port.PublishedPort !== undefined)?.PublishedPort;
          if (node.publishedPort === undefined) {
            throw new SwarmRuntimeError("SWARM_TASK_FAILED", `node ${node.id}'s task ${task.ID} runs but reports no published client port`);
          }
          await this.followLog(node);
          return;
        }
        if (endedStates.has(state)) {
          throw new SwarmRuntimeError(
            "SWARM_TASK_FAILED",
            `node ${node.id} (service ${node.serviceName} on ${node.host.name}): its task ended in state "${state}": ${task.Status?.Err ?? "no error given"}`,
          );
        }
      }
      if (Date.now() > deadline) {
        throw new SwarmRuntimeError(
          "SWARM_TASK_FAILED",
          `node ${node.id} (service ${node.serviceName} on ${node.host.name}): no running task within ${this.parts.readyTimeoutMs} ms ` +
            `(last state "${task?.Status?.State ?? "none"}"${task?.Status?.Err === undefined ? "" : `: ${task.Status.Err}`}; see \`docker service ps ${node.serviceName} --no-trunc\`)`,
        );
      }
      await sleep(taskPollIntervalMs, signal);
    }
  }

  private async latestTask(node: SwarmNode): Promise<SwarmTask | undefined> {
    const tasks = (await this.parts.manager.listTasks({ filters: JSON.stringify({ service: [node.serviceName] }) })) as SwarmTask[];
    return tasks.sort((left, right) => (left.CreatedAt ?? "").localeCompare(right.CreatedAt ?? "")).at(-1);
  }

  private peerAddressOf(task: SwarmTask): string | undefined {
    const attachment = task.NetworksAttachments?.find((candidate) => candidate.Network?.ID === this.parts.peerNetwork.id);
    const cidr = attachment?.Addresses?.[0];
    return cidr === undefined ? undefined : cidr.slice(0, cidr.indexOf("/"));
  }

  /** Appends the container's whole output (from its start, so no early line is lost) to the node's log. */
  private async followLog(node: SwarmNode): Promise<void> {
    this.followOutput(node, (await node.container.logs({ follow: true, stdout: true, stderr: true })) as NodeJS.ReadableStream);
  }

  private async containerRunning(node: SwarmNode): Promise<boolean> {
    try {
      return (await node.container.inspect()).State.Running;
    } catch (error) {
      if ((error as { statusCode?: unknown }).statusCode === 404) {
        return false;
      }
      throw error;
    }
  }

  private async waitUntilReady(node: SwarmNode, signal: AbortSignal | undefined): Promise<void> {
    const [endpoint] = this.nodes.filter((candidate) => candidate.id === node.id);
    const address = endpoint!.clientAddress;
    const ready = await waitForTcp(address, Date.now() + this.parts.readyTimeoutMs, signal, () => this.containerRunning(node));
    if (ready) {
      return;
    }
    const running = await this.containerRunning(node);
    const why = running ? `its client port ${address} did not accept within ${this.parts.readyTimeoutMs} ms` : "its container exited";
    throw new SwarmRuntimeError(
      "SWARM_TASK_FAILED",
      `node ${node.id} (service ${node.serviceName} on ${node.host.name}): ${why}; last log lines (${this.logPath(node.id)}):\n${await readLogTail(this.logPath(node.id))}`,
    );
  }

  protected unknownNode(id: number): Error {
    return new SwarmRuntimeError("SWARM_TASK_FAILED", `no node ${id} in run ${this.parts.runId} (nodes: ${[...this.byId.keys()].join(", ")})`);
  }
}
