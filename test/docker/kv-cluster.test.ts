// End to end: three real raftlab nodes (the kv plugin) in Docker elect a leader, serve the host's
// client through the internal network, and keep serving after the leader is SIGKILLed. Uses dist/
// as built (`npm test` builds first); run `npm run build` before running this file alone.
import type Docker from "dockerode";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep } from "../../lib/deadline.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DockerRuntime, type DockerCluster } from "../../harness/runtime/docker/docker-runtime.js";
import { RaftClient } from "../../node/client/index.js";
import { fileURLToPath } from "node:url";
import { requireDocker, skipDocker, uniqueRunId } from "./docker-test-support.js";

/** The project root without a trailing slash, as Docker reports a bind mount's source. */
const projectRoot = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

async function waitForLeader(client: RaftClient, signal: AbortSignal): Promise<number> {
  for (;;) {
    signal.throwIfAborted();
    const leader = await client.findLeader({ signal, timeoutMs: 1_000 });
    if (leader !== undefined) {
      return leader;
    }
    await sleep(200, signal);
  }
}

describe.skipIf(skipDocker)("a real kv cluster in Docker", () => {
  let docker: Docker;
  let cluster: DockerCluster;
  let client: RaftClient;
  let logDir: string;

  beforeAll(async () => {
    docker = await requireDocker();
    logDir = await mkdtemp(join(tmpdir(), "raftlab-docker-kv-"));
    cluster = await new DockerRuntime({ docker, build: "if-missing" }).createCluster(
      { runId: uniqueRunId("kv"), nodeIds: [1, 2, 3], plugin: "kv", unsafe: [], logDir },
      AbortSignal.timeout(110_000),
    );
    client = new RaftClient({ nodes: cluster.nodes, secret: cluster.secret, requestTimeoutMs: 5_000 });
  });

  afterAll(async () => {
    client?.close();
    await cluster?.destroy();
    await rm(logDir, { recursive: true, force: true });
  });

  test("elects a leader that serves writes and reads, also after the leader is killed", async () => {
    const signal = AbortSignal.timeout(60_000);
    const leader = await waitForLeader(client, signal);
    const status = await client.status(leader, { signal });
    expect({ role: status.role, voters: status.voters, plugin: status.plugin }).toEqual({ role: "leader", voters: [1, 2, 3], plugin: "kv" });

    expect(await client.invoke({ f: "put", key: "x", value: "1" }, { readOnly: false, signal })).toMatchObject({ type: "ok" });
    expect(await client.invoke({ f: "get", key: "x", value: null }, { readOnly: true, signal })).toMatchObject({ type: "ok", value: "1" });

    await cluster.kill(leader);
    const successor = await waitForLeader(client, signal);
    expect(successor).not.toBe(leader);
    expect(await client.invoke({ f: "get", key: "x", value: null }, { readOnly: true, signal })).toMatchObject({ type: "ok", value: "1" });

    await cluster.start(leader);
    expect((await client.status(leader, { signal })).voters).toEqual([1, 2, 3]);
    const firstLine = JSON.parse((await readFile(cluster.logPath(leader), "utf8")).split("\n")[0] ?? "{}") as Record<string, unknown>;
    expect(Object.keys(firstLine)).toEqual(expect.arrayContaining(["time", "level", "node", "msg"]));
  });

  // Issue 11, defect 6: a member whose data directory was wiped must not bootstrap again on a
  // restart (it could vote twice in a term); the runtime says it ran before, as etcd's
  // --initial-cluster-state existing does, and the node refuses to start.
  test("a node restarted on a wiped data directory refuses to start", async () => {
    const signal = AbortSignal.timeout(60_000);
    const leader = await waitForLeader(client, signal);
    const follower = [1, 2, 3].find((id) => id !== leader)!;
    const wipe = "const fs = require('fs'); for (const name of fs.readdirSync('/data')) fs.rmSync('/data/' + name, { recursive: true, force: true });";
    expect(await cluster.exec(follower, ["node", "-e", wipe], signal)).toMatchObject({ exitCode: 0 });
    await cluster.kill(follower, signal);
    await expect(cluster.start(follower, signal)).rejects.toThrow(/exited with code 1[\s\S]*--initial-cluster-state existing says this member ran before/);
  });
});

describe.skipIf(skipDocker)("a third-party plugin in Docker", () => {
  test("a plugin given by host path (TypeScript, importing ../api.js) is mounted read-only and served", async () => {
    const docker = await requireDocker();
    const logDir = await mkdtemp(join(tmpdir(), "raftlab-docker-plugin-"));
    const cluster = await new DockerRuntime({ docker, build: "if-missing" }).createCluster(
      { runId: uniqueRunId("plugin"), nodeIds: [1], plugin: "plugins/examples/set-plugin.ts", unsafe: [], logDir },
      AbortSignal.timeout(100_000),
    );
    const client = new RaftClient({ nodes: cluster.nodes, secret: cluster.secret, requestTimeoutMs: 5_000 });
    try {
      const signal = AbortSignal.timeout(60_000);
      expect(await waitForLeader(client, signal)).toBe(1);
      expect(await client.invoke({ f: "add", value: "b" }, { readOnly: false, signal })).toMatchObject({ type: "ok" });
      expect(await client.invoke({ f: "add", value: "a" }, { readOnly: false, signal })).toMatchObject({ type: "ok" });
      expect(await client.invoke({ f: "read", value: null }, { readOnly: true, signal })).toMatchObject({ type: "ok", value: ["a", "b"] });
      const mounts = (await cluster.describeNode(1).container.inspect()).Mounts.filter((mount) => mount.Type === "bind");
      expect(mounts.map(({ Source, Destination, RW }) => ({ Source, Destination, RW }))).toEqual([
        { Source: projectRoot, Destination: projectRoot, RW: false },
      ]);
    } finally {
      client.close();
      await cluster.destroy();
      await rm(logDir, { recursive: true, force: true });
    }
  });
});
