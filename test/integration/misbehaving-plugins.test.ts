// Plugins that break their contract (fixtures in test/fixtures/plugins/), against real nodes: a
// plain throw in apply and a result JSON cannot encode become a PLUGIN_FAILED answer naming the
// plugin and operation on every replica, with the state unchanged and every node up; a snapshot()
// that returns a string stops the node with a line blaming the plugin and writes nothing, so the
// node starts again; a plugin module that never finishes loading, or exits while loading, makes
// the node exit 254 naming it.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { CLI_PATH, REPO_ROOT, logRecords, requireBuild, tearDownCluster, TestCluster, waitFor } from "./cluster-helpers.js";

const FIXTURES = path.join(REPO_ROOT, "test", "fixtures", "plugins");

let cluster: TestCluster | undefined;
afterEach(async (context) => {
  cluster = await tearDownCluster(cluster, context.task.result?.state === "fail");
});

it("a plain throw or a BigInt result is a PLUGIN_FAILED answer on every replica; the state is unchanged and every node stays up", async () => {
  cluster = await TestCluster.create({ size: 3, plugin: path.join(FIXTURES, "misbehaving-kv.ts") });
  const nodes = cluster;
  await nodes.put("k", "v");
  const thrown = await nodes.invoke({ type: "command", op: { f: "put", key: "k", value: "throw" } });
  expect(thrown).toMatchObject({
    ok: false,
    code: "PLUGIN_FAILED",
    message: expect.stringMatching(/^plugin misbehaving-kv: apply\(put\) threw Error: kaboom instead of a PluginError; the plugin breaks its contract/) as unknown,
  });
  const bigint = await nodes.invoke({ type: "command", op: { f: "put", key: "k", value: "bigint" } });
  expect(bigint).toMatchObject({
    ok: false,
    code: "PLUGIN_FAILED",
    message: expect.stringMatching(/^plugin misbehaving-kv: apply\(put\) returned a value JSON cannot carry: result is a bigint/) as unknown,
  });
  expect(await nodes.get("k")).toBe("v");
  await nodes.put("k", "w"); // still committing
  // Every replica applied both entries and reported the plugin, not a broken invariant.
  await waitFor("every replica to report both violations", 10_000, async () =>
    [1, 2, 3].every((id) => logRecords(nodes.node(id).output).filter((record) => String(record["msg"]).startsWith("plugin contract violated: plugin misbehaving-kv")).length === 2)
      ? true
      : undefined,
  );
  expect(nodes.running()).toEqual([1, 2, 3]);
  expect([1, 2, 3].map((id) => nodes.node(id).output).join("")).not.toMatch(/fatal error/);
  expect(await nodes.get("k")).toBe("w");
});

it("a snapshot() that returns a string stops the node blaming the plugin, writes nothing, and the node starts again", async () => {
  cluster = await TestCluster.create({ size: 1, plugin: path.join(FIXTURES, "string-snapshot-kv.ts"), flags: ["--snapshot-every", "5"] });
  const nodes = cluster;
  for (let k = 0; k < 8 && nodes.running().length === 1; k++) {
    await nodes.invoke({ type: "command", op: { f: "put", key: "k", value: String(k) } }, 5000).catch(() => undefined);
  }
  expect(await nodes.node(1).exited).toBe(1);
  const stopped = logRecords(nodes.node(1).output).find((record) => record["level"] === "error");
  expect(stopped?.["msg"]).toBe(
    "plugin contract violated; stopping: plugin string-snapshot-kv: snapshot() returned a string; the contract asks for a Uint8Array (nothing was written)",
  );
  const snapshotDirectory = path.join(nodes.node(1).dataDir, "snap");
  expect(existsSync(snapshotDirectory) ? readdirSync(snapshotDirectory) : []).toEqual([]);
  // Nothing durable was damaged: a restart recovers the WAL and starts; it then stops at the same
  // snapshot, for the same reason (the plugin is still broken), not at corrupt storage.
  const outputBefore = nodes.node(1).output.length;
  expect(await nodes.runToExit(1)).toBe(1);
  const restarted = logRecords(nodes.node(1).output.slice(outputBefore));
  expect(restarted.some((record) => record["msg"] === "node started")).toBe(true);
  expect(restarted.filter((record) => record["level"] === "error").map((record) => record["msg"])).toEqual([stopped?.["msg"]]);
});

function runNode(plugin: string, env: Record<string, string> = {}): { status: number | null; stderr: string } {
  requireBuild();
  const args = ["--id", "1", "--listen", "127.0.0.1:1", "--client-listen", "127.0.0.1:2", "--peers", "1=127.0.0.1:1", "--data", "/tmp/raftlab-never", "--insecure", "--plugin", plugin];
  const result = spawnSync(process.execPath, [CLI_PATH, ...args], { encoding: "utf8", timeout: 60_000, env: { ...process.env, ...env } });
  return { status: result.status, stderr: result.stderr };
}

it("a plugin module that never finishes loading, or exits while loading, makes the node exit 254 naming it", () => {
  const never = runNode(path.join(FIXTURES, "never-loads.ts"), { RAFTLAB_PLUGIN_LOAD_TIMEOUT_MS: "3000" });
  expect(never.status).toBe(254);
  expect(never.stderr).toMatch(/--plugin: plugin module .*never-loads\.ts: did not finish loading within 3000 ms \(a top-level await that never settles\?\)/);
  const exits = runNode(path.join(FIXTURES, "exits-at-import.ts"));
  expect(exits.status).toBe(254);
  expect(exits.stderr).toMatch(/plugin module .*exits-at-import\.ts ended the process \(exit code 0\) while it was being loaded/);
});
