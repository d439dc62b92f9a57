// WAL damage on a stopped node: a torn tail (a crash mid-write) is cut off with a warning and the
// node rejoins with the acknowledged data; damage in the middle makes it refuse to start, naming
// the file and byte offset.
import { readdir, readFile, stat, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { logRecords, tearDownCluster, TestCluster, waitFor } from "./cluster-helpers.js";

let cluster: TestCluster | undefined;

afterEach(async (context) => {
  cluster = await tearDownCluster(cluster, context.task.result?.state === "fail");
});

async function segments(dataDir: string): Promise<string[]> {
  const walDir = path.join(dataDir, "wal");
  return (await readdir(walDir))
    .filter((name) => name.endsWith(".wal"))
    .sort()
    .map((name) => path.join(walDir, name));
}

async function stoppedFollowerWithData(c: TestCluster): Promise<number> {
  for (let k = 0; k < 40; k++) {
    await c.put(`k${k}`, `v${k}`);
  }
  const leader = await c.waitForLeader();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  const commit = (await c.status(leader))!.commit;
  await waitFor("the follower to apply everything", 10_000, async () => (((await c.status(follower))?.applied ?? 0) >= commit ? true : undefined));
  await c.kill(follower);
  return follower;
}

it("a torn WAL tail is truncated with a warning and the node rejoins with the acknowledged data", async () => {
  cluster = await TestCluster.create({ size: 3 });
  const follower = await stoppedFollowerWithData(cluster);
  const last = (await segments(cluster.node(follower).dataDir)).at(-1)!;
  const size = (await stat(last)).size;
  await truncate(last, size - 3);
  await cluster.start(follower);
  const warning = logRecords(cluster.node(follower).output).find((r) => r.level === "warn" && /torn|truncat/i.test(String(r.msg)));
  expect(warning).toBeDefined();
  expect(JSON.stringify(warning)).toContain(last);
  const leader = await cluster.waitForLeader();
  await cluster.put("after-repair", "1");
  const commit = (await cluster.status(leader))!.commit;
  await waitFor("the repaired follower to catch up", 10_000, async () => (((await cluster!.status(follower))?.applied ?? 0) >= commit ? true : undefined));
  await cluster.makeLeader(follower);
  expect(await cluster.get("k39")).toBe("v39");
  expect(await cluster.get("k0")).toBe("v0");
});

it("damage in the middle of the WAL makes the node refuse to start, naming the file and offset", async () => {
  cluster = await TestCluster.create({ size: 3 });
  const follower = await stoppedFollowerWithData(cluster);
  const first = (await segments(cluster.node(follower).dataDir))[0]!;
  const bytes = await readFile(first);
  const middle = Math.floor(bytes.length / 2);
  bytes[middle] = bytes[middle]! ^ 0xff;
  await writeFile(first, bytes);
  const code = await cluster.runToExit(follower);
  expect(code).toBe(1);
  const error = logRecords(cluster.node(follower).output).find((r) => r.level === "error" && String(r.msg).includes("CORRUPT_WAL"));
  expect(error).toBeDefined();
  expect(String(error!.msg)).toContain(first);
  expect(String(error!.msg)).toMatch(/offset \d+/);
});
