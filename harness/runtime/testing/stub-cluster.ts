// A local cluster of stub nodes (stub-node.ts) for tests of the runtime's and the nemesis's wiring:
// `heardFrom(id)` tells which peers' greetings reached node id in the last 400 ms, through the proxies.
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { RaftClient } from "../../../node/client/raft-client.js";
import { LocalRuntime } from "../local/local-runtime.js";
import type { Cluster } from "../runtime.js";
import { sleep } from "../../../lib/deadline.js";

export interface StubCluster {
  cluster: Cluster;
  client: RaftClient;
  /** Peers node `id` heard from recently (sorted); rejects when the node does not answer. */
  heardFrom(id: number): Promise<number[]>;
  /** How many times node `id` started with its data directory. */
  boots(id: number): Promise<number>;
  destroy(): Promise<void>;
}

export async function startStubCluster(name: string, nodeIds: number[]): Promise<StubCluster> {
  const runId = `${name}-${process.pid}-${Date.now()}`;
  const runtime = new LocalRuntime(stubNodeCommand());
  const logDir = path.join(os.tmpdir(), `${runId}-logs`);
  const cluster = await runtime.createCluster({ runId, nodeIds, plugin: "kv", unsafe: [], logDir });
  const client = new RaftClient({ nodes: cluster.nodes, requestTimeoutMs: 2000 });
  const status = async (id: number): Promise<{ heardFrom: number[]; boots: number }> =>
    (await client.status(id, { timeoutMs: 1000 })) as unknown as { heardFrom: number[]; boots: number };
  return {
    cluster,
    client,
    heardFrom: async (id) => (await status(id)).heardFrom,
    boots: async (id) => (await status(id)).boots,
    destroy: async () => {
      client.close();
      await cluster.destroy();
      rmSync(logDir, { recursive: true, force: true });
    },
  };
}

/** How to start a stub node: its source through tsx (testing/ folders are never compiled into dist/). */
export function stubNodeCommand(): { cliPath: string; nodeExecArgv: string[] } {
  const source = path.join(path.dirname(fileURLToPath(import.meta.url)), "stub-node.ts");
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  return { cliPath: source, nodeExecArgv: ["--import", tsxLoader] };
}

/** Polls `check` until it holds; throws naming `what` after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(50);
  }
}
