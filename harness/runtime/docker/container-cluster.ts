// What the Docker and swarm clusters share: a node is a container reached through a Docker API, so
// pause, resume, exec, the log files and destroy()'s once-at-a-time guard are the same on both. Each
// runtime keeps how it creates, starts and removes its containers.
import { createWriteStream, type WriteStream } from "node:fs";
import { join } from "node:path";
import { destroyStream } from "./destroy-stream.js";
import { execInContainer } from "./exec.js";
import { DockerNetworkControl, type NetworkNode } from "./network.js";
import type { ExecResult } from "../runtime.js";

export abstract class ContainerCluster<Node extends NetworkNode> {
  readonly network: DockerNetworkControl;
  readonly secret: Uint8Array;
  protected readonly byId: ReadonlyMap<number, Node>;
  protected unregisterCleanup: () => void = () => {};
  private readonly logs = new Map<number, WriteStream>();
  /** The streams feeding the logs; a new one per start, since each ends when its container stops. */
  private readonly logSources = new Map<number, NodeJS.ReadableStream>();
  private destroying: Promise<void> | undefined;

  protected constructor(
    nodes: readonly Node[],
    secret: Uint8Array,
    private readonly logDir: string,
  ) {
    this.byId = new Map(nodes.map((node) => [node.id, node]));
    this.network = new DockerNetworkControl(this.byId);
    this.secret = secret;
  }

  /** Called once by the runtime; destroy() undoes the registration. */
  setCleanupRegistration(unregister: () => void): void {
    this.unregisterCleanup = unregister;
  }

  /** Host-side facts about a node, for tests and reports. */
  describeNode(id: number): Readonly<Node> {
    return this.node(id);
  }

  async pause(id: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    await this.node(id).container.pause();
  }

  async resume(id: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const { container } = this.node(id);
    try {
      await container.unpause();
    } catch (error) {
      // Killed and restarted while paused (a power loss in the same compound fault): the new
      // process was never paused, so there is nothing to resume.
      if ((await container.inspect()).State.Paused) {
        throw error;
      }
    }
    // Faults changed while it was paused could not be written then (docker exec refuses paused containers).
    await this.network.reconcile(id, signal);
  }

  async exec(id: number, argv: string[], signal?: AbortSignal): Promise<ExecResult> {
    return execInContainer(this.node(id).container, argv, { signal });
  }

  logPath(id: number): string {
    this.node(id);
    return join(this.logDir, `node-${id}.log`);
  }

  destroy(): Promise<void> {
    this.destroying ??= this.removeEverything().finally(() => {
      // A later call tries again (finding most things gone), e.g. after the daemon came back.
      this.destroying = undefined;
    });
    return this.destroying;
  }

  /** Removes the run's Docker objects and closes the logs; throws naming what is left. */
  protected abstract removeEverything(): Promise<void>;

  /** The error for an id that names no node of the run. */
  protected abstract unknownNode(id: number): Error;

  protected node(id: number): Node {
    const node = this.byId.get(id);
    if (node === undefined) {
      throw this.unknownNode(id);
    }
    return node;
  }

  /** Appends a container's output stream (stdout and stderr multiplexed) to the node's log file. */
  protected followOutput(node: Node, stream: NodeJS.ReadableStream): void {
    // The previous stream ended when the node stopped; close it in case the daemon kept it open.
    destroyStream(this.logSources.get(node.id));
    this.logSources.set(node.id, stream);
    let log = this.logs.get(node.id);
    if (log === undefined) {
      log = createWriteStream(this.logPath(node.id), { flags: "a" });
      this.logs.set(node.id, log);
    }
    // Both streams go to one file; the node writes JSON lines to stderr.
    node.container.modem.demuxStream(stream, log, log);
    stream.on("error", () => {}); // The stream ending with the container is expected.
  }

  /** Stops following every container's output and flushes the log files. */
  protected async closeLogs(): Promise<void> {
    for (const stream of this.logSources.values()) {
      destroyStream(stream);
    }
    this.logSources.clear();
    await Promise.all([...this.logs.values()].map((log) => new Promise<void>((resolve) => log.end(resolve))));
    this.logs.clear();
  }
}
