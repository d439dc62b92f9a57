// One run's cluster in Docker: a container per node on an internal network, each with a named
// volume at /data that outlives kill/start. Created by DockerRuntime (docker.ts).
import type Docker from "dockerode";
import { readFile } from "node:fs/promises";
import { DockerRuntimeError } from "../../../docker/image/docker-error.js";
import { isNotFound } from "../../../docker/image/image.js";
import { ContainerCluster } from "./container-cluster.js";
import { waitForTcp } from "./tcp-wait.js";
import { copyOutOfContainer } from "./copy-out.js";
import type { Cluster, NodeEndpoint } from "../runtime.js";
import { sleep } from "../../../lib/deadline.js";
import { singleFileTar } from "./secret-archive.js";
import { START_CONFIG_DIRECTORY, START_CONFIG_FILE_NAME, startConfigText } from "./node-container.js";

export interface DockerNode {
  id: number;
  address: string;
  clientAddress: string;
  containerName: string;
  volumeName: string;
  container: Docker.Container;
}

export interface DockerClusterParts {
  docker: Docker;
  runId: string;
  networkName: string;
  subnet: string;
  nodes: readonly DockerNode[];
  /** The run's cluster secret, already in each container. */
  secret: Uint8Array;
  logDir: string;
  readyTimeoutMs: number;
  /** Grace between SIGTERM and SIGKILL in stop(), in whole seconds (Docker's unit). */
  stopGraceSeconds: number;
  /** Whether the nodes read the start settings file (node-container.ts, START_CONFIG_FILE_NAME). */
  startConfig: boolean;
}

/** Writes a node's start settings file: whether the member ran before (see node-container.ts). */
export async function writeStartConfig(node: Pick<DockerNode, "container">, startedBefore: boolean): Promise<void> {
  const archive = singleFileTar(START_CONFIG_FILE_NAME, Buffer.from(startConfigText(startedBefore), "utf8"), 0o644);
  await node.container.putArchive(archive, { path: START_CONFIG_DIRECTORY });
}

/** How long kill() waits for the container to be reported stopped. */
const exitWaitMs = 30_000;

export class DockerCluster extends ContainerCluster<DockerNode> implements Cluster {
  readonly runtime = "docker" as const;
  readonly nodes: readonly NodeEndpoint[];
  readonly networkName: string;
  readonly subnet: string;

  constructor(private readonly parts: DockerClusterParts) {
    super(parts.nodes, parts.secret, parts.logDir);
    this.nodes = parts.nodes.map((node) => ({ id: node.id, clientAddress: node.clientAddress }));
    this.networkName = parts.networkName;
    this.subnet = parts.subnet;
  }

  /** Starts every node (first start) and waits until each client port accepts. */
  async launch(signal?: AbortSignal): Promise<void> {
    await Promise.all(this.parts.nodes.map((node) => this.startContainer(node, signal)));
    await Promise.all(this.parts.nodes.map((node) => this.waitUntilReady(node, signal)));
    if (this.parts.startConfig) {
      // Only once each node listens (it read its settings long before): every later start is a restart.
      await Promise.all(this.parts.nodes.map((node) => writeStartConfig(node, true)));
    }
  }

  async start(id: number, signal?: AbortSignal): Promise<void> {
    const node = this.node(id);
    await this.startContainer(node, signal);
    await this.network.reconcile(id, signal);
    await this.waitUntilReady(node, signal);
  }

  async stop(id: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    await tolerate(this.node(id).container.stop({ t: this.parts.stopGraceSeconds }), [304]);
  }

  async kill(id: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const { container } = this.node(id);
    // 409: not running (already dead), which is what kill() is for.
    await tolerate(container.kill({ signal: "SIGKILL" }), [409]);
    // The kill request returns when the signal is sent; start() needs the container fully stopped.
    const deadline = Date.now() + exitWaitMs;
    while ((await container.inspect()).State.Running) {
      if (Date.now() > deadline) {
        throw new DockerRuntimeError("DOCKER_EXEC_FAILED", `${this.node(id).containerName} still runs ${exitWaitMs} ms after SIGKILL`);
      }
      signal?.throwIfAborted();
      await sleep(20);
    }
  }

  /** The node's /data volume, through its container (which may be stopped). */
  async copyData(id: number, target: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    await copyOutOfContainer(this.node(id).container, "/data", target);
  }

  protected async removeEverything(): Promise<void> {
    const { docker } = this.parts;
    const failures: string[] = [];
    const attempt = async (what: string, work: Promise<unknown>): Promise<void> => {
      try {
        await tolerate(work, [404]);
      } catch (error) {
        failures.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    await Promise.all(this.parts.nodes.map((node) => attempt(`container ${node.containerName}`, node.container.remove({ force: true, v: true }))));
    await this.closeLogs();
    await attempt(`network ${this.parts.networkName}`, docker.getNetwork(this.parts.networkName).remove());
    await Promise.all(this.parts.nodes.map((node) => attempt(`volume ${node.volumeName}`, docker.getVolume(node.volumeName).remove())));
    if (failures.length > 0) {
      throw new DockerRuntimeError("DOCKER_EXEC_FAILED", `destroying run ${this.parts.runId} left: ${failures.join("; ")}`);
    }
    this.unregisterCleanup();
  }

  /** Attaches the log file before starting, as `docker start -a` does, so no early line is lost. */
  private async startContainer(node: DockerNode, signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    this.followOutput(node, await node.container.attach({ stream: true, stdout: true, stderr: true, logs: false }));
    await tolerate(node.container.start(), [304]);
  }

  private async waitUntilReady(node: DockerNode, signal: AbortSignal | undefined): Promise<void> {
    const started = Date.now();
    const ready = await waitForTcp(node.clientAddress, started + this.parts.readyTimeoutMs, signal, async () => {
      return (await node.container.inspect()).State.Running;
    });
    if (ready) {
      return;
    }
    const state = (await node.container.inspect()).State;
    const tail = await readLogTail(this.logPath(node.id));
    const why = state.Running
      ? `its client port ${node.clientAddress} did not accept within ${this.parts.readyTimeoutMs} ms`
      : `it exited with code ${state.ExitCode}`;
    throw new DockerRuntimeError(
      "DOCKER_NODE_NOT_READY",
      `node ${node.id} (${node.containerName}): ${why}; last log lines (${this.logPath(node.id)}):\n${tail}`,
    );
  }

  protected unknownNode(id: number): Error {
    return new DockerRuntimeError("DOCKER_BAD_SPEC", `no node ${id} in run ${this.parts.runId} (nodes: ${[...this.byId.keys()].join(", ")})`);
  }
}

/** The last lines of a node's log file, for messages about a node that did not come up. */
export async function readLogTail(path: string, lines = 20): Promise<string> {
  return readFile(path, "utf8")
    .then((text) => text.split("\n").slice(-lines).join("\n"))
    .catch(() => "(no log)");
}

/** Awaits a Docker API call, treating the given HTTP status codes as success (idempotent calls). */
export async function tolerate(work: Promise<unknown>, statusCodes: readonly number[]): Promise<void> {
  try {
    await work;
  } catch (error) {
    const status = (error as { statusCode?: unknown }).statusCode;
    if (typeof status === "number" && statusCodes.includes(status)) {
      return;
    }
    if (statusCodes.includes(404) && isNotFound(error)) {
      return;
    }
    throw error;
  }
}
