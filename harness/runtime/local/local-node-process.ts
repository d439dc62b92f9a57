// One node of a local cluster as an OS process: spawned with the same argv and data directory on
// every start, output appended to its log file, signalled directly (SIGKILL, SIGTERM, SIGSTOP, SIGCONT).
//
// Spawned with node:child_process rather than execa: the child writes straight into the log file
// descriptor and nothing is piped through the harness, which child_process does with no wrapper
// (execa 10, installed when this was written, also failed to load on Node 20; the project now pins 9).
import { CodedError } from "../../../lib/coded-error.js";
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, closeSync, openSync, readFileSync } from "node:fs";
import { waitForListener } from "./free-port.js";
import { DeadlineError, deadlineAfter } from "../../../lib/deadline.js";

export type LocalRuntimeErrorCode =
  /** the built node server is missing: the local runtime runs bin/raftlab-node.js. */
  | "NOT_BUILT"
  /** A node process exited, or did not open its client port, while starting. */
  | "NODE_START_FAILED"
  /** A node id that is not part of the cluster. */
  | "UNKNOWN_NODE"
  /** The cluster was destroyed. */
  | "CLUSTER_DESTROYED"
  /** exec could not run its command on the host (not a non-zero exit, which is a result). */
  | "EXEC_FAILED";

export class LocalRuntimeError extends CodedError<LocalRuntimeErrorCode> {
  override readonly name = "LocalRuntimeError";
}

export interface LocalNodeProcessOptions {
  id: number;
  /** Path of the node entry (bin/raftlab-node.js). */
  cliPath: string;
  /** Node.js flags before the CLI path (e.g. ["--import", "tsx"]). */
  execArgv: readonly string[];
  /** Arguments after `node`, identical on every start. */
  nodeArgs: readonly string[];
  logPath: string;
  clientHost: string;
  clientPort: number;
  /** How long a start may take until the client port accepts connections. */
  startTimeoutMs: number;
}

/** Node processes of this harness still running: killed when the harness exits, so none outlive it as orphans. */
const liveChildren = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of liveChildren) {
    child.kill("SIGKILL");
  }
});

/** Lines of a node's log quoted in a start failure. */
const LOG_TAIL_LINES = 15;

export class LocalNodeProcess {
  readonly id: number;
  readonly #options: LocalNodeProcessOptions;
  #child: ChildProcess | undefined;
  /** Whether this node was started before (restarts pass --initial-cluster-state existing). */
  #started = false;
  /** Settles when the current child has exited (never rejects). */
  #exited: Promise<void> = Promise.resolve();

  constructor(options: LocalNodeProcessOptions) {
    this.id = options.id;
    this.#options = options;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Spawns the node (no-op if it runs) and waits until its client port accepts connections. */
  async start(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.#child !== undefined) {
      return;
    }
    const { cliPath, nodeArgs, logPath } = this.#options;
    // Every start after the first says the member ran before: a wiped data directory then refuses
    // to bootstrap again (etcd's --initial-cluster-state existing).
    const restart = this.#started && !nodeArgs.includes("--join") ? ["--initial-cluster-state", "existing"] : [];
    this.#started = true;
    const argv = [...this.#options.execArgv, cliPath, ...nodeArgs, ...restart];
    this.#note("local runtime: starting node", { argv: [process.execPath, ...argv] });
    // The child writes straight into the log file, so logs survive the harness and cost it nothing.
    const logFd = openSync(logPath, "a");
    let child: ChildProcess;
    try {
      // stdin is a pipe the child never gets data on: when this process dies in any way, the kernel
      // closes it and the node (started with --exit-with-parent) stops instead of running on.
      child = spawn(process.execPath, argv, { stdio: ["pipe", logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    // Nothing is ever written to it; its only job is to close. Not to hold the harness open either.
    child.stdin?.on("error", () => undefined);
    liveChildren.add(child);
    this.#child = child;
    this.#exited = new Promise<void>((resolve) => {
      const exited = (exitCode: number | null, signal: NodeJS.Signals | null, error?: Error): void => {
        liveChildren.delete(child);
        child.stdin?.destroy();
        this.#note("local runtime: node exited", { exitCode, signal, ...(error === undefined ? {} : { error: error.message }) });
        if (this.#child === child) {
          this.#child = undefined;
        }
        resolve();
      };
      // "error" without "exit" happens when the spawn itself fails.
      child.once("error", (error) => {
        if (child.pid === undefined) {
          exited(null, null, error);
        }
      });
      child.once("exit", (exitCode, signal) => exited(exitCode, signal));
    });
    await this.#waitUntilServing(child, signal);
  }

  /** kill -9, then waits for the exit. */
  async kill(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.#child?.kill("SIGKILL");
    await this.#exited;
    if (this.#child !== undefined) {
      throw new Error(`invariant: node ${this.id} still tracked as running after its exit`);
    }
  }

  /** SIGTERM (and SIGCONT, so a paused node can act on it); SIGKILL after `graceMs`. */
  async stop(signal?: AbortSignal, graceMs = 5000): Promise<void> {
    signal?.throwIfAborted();
    const child = this.#child;
    if (child === undefined) {
      return;
    }
    child.kill("SIGTERM");
    child.kill("SIGCONT");
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<"grace-over">((resolve) => {
      timer = setTimeout(() => resolve("grace-over"), graceMs);
    });
    const outcome = await Promise.race([this.#exited.then(() => "exited" as const), graceOver]);
    clearTimeout(timer);
    if (outcome === "grace-over") {
      child.kill("SIGKILL");
      await this.#exited;
    }
  }

  pause(): void {
    this.#child?.kill("SIGSTOP");
  }

  resume(): void {
    this.#child?.kill("SIGCONT");
  }

  async #waitUntilServing(child: ChildProcess, signal: AbortSignal | undefined): Promise<void> {
    const { clientHost, clientPort, startTimeoutMs, logPath } = this.#options;
    // Not AbortSignal.any with AbortSignal.timeout: on Node 20 the timeout can be collected unfired.
    const stopPolling = new AbortController();
    const wait = deadlineAfter(startTimeoutMs, stopPolling.signal, ...(signal === undefined ? [] : [signal]));
    const waitSignal = wait.signal;
    const exitedFirst = this.#exited.then(() => "exited" as const);
    try {
      const outcome = await Promise.race([waitForListener(clientHost, clientPort, waitSignal).then(() => "serving" as const), exitedFirst]);
      if (outcome === "serving") {
        return;
      }
    } catch (error) {
      signal?.throwIfAborted();
      if (!(wait.signal.reason instanceof DeadlineError)) {
        throw error;
      }
      child.kill("SIGKILL");
      await this.#exited;
      throw new LocalRuntimeError(
        "NODE_START_FAILED",
        `node ${this.id} did not accept connections on its client port ${clientHost}:${clientPort} within ${startTimeoutMs} ms; ` +
          `last lines of ${logPath}:\n${logTail(logPath)}`,
      );
    } finally {
      // Stops the polling loop too when the node exited first.
      stopPolling.abort();
      wait.dispose();
    }
    throw new LocalRuntimeError("NODE_START_FAILED", `node ${this.id} exited while starting; last lines of ${logPath}:\n${logTail(logPath)}`);
  }

  /** Appends one harness line to the node's log, in the node's JSON-lines format. */
  #note(msg: string, fields: Record<string, unknown>): void {
    const line = JSON.stringify({ time: new Date().toISOString(), level: "info", node: this.id, source: "harness", msg, ...fields });
    appendFileSync(this.#options.logPath, `${line}\n`);
  }
}

function logTail(path: string): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-LOG_TAIL_LINES).join("\n");
  } catch (error) {
    return `(cannot read: ${(error as Error).message})`;
  }
}
