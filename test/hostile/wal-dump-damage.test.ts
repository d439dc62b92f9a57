// `raftlab wal dump` on damaged copies of a real node's data directory: a segment cut short (a torn
// tail, as a crash mid-write leaves) and a flipped byte in the middle (corruption, valid records
// follow) are each reported as a `damage` line, after the records before them, and never crash the
// dump. The copies are damaged; the node's own directory is only read.
import { cp, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { tearDownCluster, TestCluster, waitFor } from "../integration/cluster-helpers.js";
import { requireBuiltCli, runCli } from "../support/run-cli.js";

let root: string;
/** A stopped follower's data directory, copied out of the cluster before it was torn down. */
let pristine: string;

beforeAll(async () => {
  requireBuiltCli();
  root = await mkdtemp(path.join(tmpdir(), "raftlab-wal-dump-"));
  let cluster: TestCluster | undefined = await TestCluster.create({ size: 3 });
  try {
    for (let k = 0; k < 30; k++) {
      await cluster.put(`k${k}`, `v${k}`);
    }
    const leader = await cluster.waitForLeader();
    const follower = [1, 2, 3].find((id) => id !== leader)!;
    const commit = (await cluster.status(leader))!.commit;
    await waitFor("the follower to apply everything", 10_000, async () => (((await cluster!.status(follower))?.applied ?? 0) >= commit ? true : undefined));
    await cluster.kill(follower);
    pristine = path.join(root, "pristine");
    await cp(cluster.node(follower).dataDir, pristine, { recursive: true });
  } finally {
    cluster = await tearDownCluster(cluster, false);
  }
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function damagedCopy(name: string, damage: (segment: string) => Promise<void>): Promise<string> {
  const copy = path.join(root, name);
  await cp(pristine, copy, { recursive: true });
  const segments = (await readdir(path.join(copy, "wal"))).filter((file) => file.endsWith(".wal")).sort();
  await damage(path.join(copy, "wal", segments.at(-1)!));
  return copy;
}

async function dump(directory: string): Promise<Record<string, unknown>[]> {
  const run = await runCli(["wal", "dump", directory, "--plugin", "kv"]);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return run.stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** WAL records read (entries, hard states, markers), from the summary line. */
const records = (lines: Record<string, unknown>[]): number => lines.at(-1)?.["records"] as number;

it("dumps the intact directory with every put decoded and no damage", async () => {
  const lines = await dump(pristine);
  expect(lines.at(-1)).toMatchObject({ kind: "summary", torn_tails: 0, corrupt: 0 });
  const puts = lines.filter((line) => line["kind"] === "entry" && (line["command"] as { op?: { f?: string } } | undefined)?.op?.f === "put");
  expect(puts).toHaveLength(30);
  expect(puts[29]).toMatchObject({ command: { op: { f: "put", key: "k29", value: "v29" } }, text: expect.stringMatching(/^put "k29" "v29"/) as unknown });
});

it("reports a segment cut short as a torn tail, after the records before it", async () => {
  const intact = records(await dump(pristine));
  const copy = await damagedCopy("truncated", async (segment) => truncate(segment, (await stat(segment)).size - 3));
  const lines = await dump(copy);
  const damage = lines.filter((line) => line["kind"] === "damage");
  expect(damage).toHaveLength(1);
  expect(damage[0]).toMatchObject({ torn: true, file: expect.stringMatching(/^wal\/\d{16}\.wal$/) as unknown, reason: expect.any(String) as unknown });
  // The last record lost its last 3 bytes: every record before it is still read.
  expect(records(lines)).toBe(intact - 1);
  expect(lines.at(-1)).toMatchObject({ kind: "summary", torn_tails: 1, corrupt: 0 });
});

it("reports a flipped byte in the middle of a segment as corruption with valid records after it", async () => {
  let flippedAt = 0;
  const copy = await damagedCopy("flipped", async (segment) => {
    const bytes = await readFile(segment);
    flippedAt = Math.floor(bytes.length / 2);
    bytes[flippedAt] = bytes[flippedAt]! ^ 0xff;
    await writeFile(segment, bytes);
  });
  const lines = await dump(copy);
  const damage = lines.filter((line) => line["kind"] === "damage");
  expect(damage).toHaveLength(1);
  expect(damage[0]).toMatchObject({ torn: false });
  expect(damage[0]!["offset"] as number).toBeLessThanOrEqual(flippedAt);
  expect(lines.at(-1)).toMatchObject({ kind: "summary", torn_tails: 0, corrupt: 1 });
  // The original is untouched: the dump only reads.
  expect((await dump(pristine)).at(-1)).toMatchObject({ torn_tails: 0, corrupt: 0 });
});
