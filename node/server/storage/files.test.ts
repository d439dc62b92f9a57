// Power loss without FUSE: with powerLossFiles, a kill -9 loses exactly the writes that were not
// synced, and synced data (WAL records, a snapshot) always survives. With directFiles the same
// kill keeps the unsynced writes (they were in the page cache), which is why the mode exists.
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { FileLog } from "./file-log.js";
import { powerLossFiles } from "./files.js";
import { SnapshotStore } from "./snapshot-store.js";

const writer = fileURLToPath(new URL("./power-loss-writer.ts", import.meta.url));
const directories: string[] = [];

afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

/** Runs the writer until it reports ready, then kills it with SIGKILL. */
async function writeThenKill(mode: "direct" | "power-loss"): Promise<string> {
  const dataDir = await mkdtemp(path.join(tmpdir(), `raftlab-${mode}-`));
  directories.push(dataDir);
  const child = spawn(process.execPath, ["--import", "tsx", writer, dataDir, mode], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) {
        resolve();
      }
    });
    child.on("exit", (code) => reject(new Error(`writer exited with ${code} before it was ready`)));
  });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  child.kill("SIGKILL");
  await exited;
  return dataDir;
}

async function recovered(dataDir: string): Promise<{ entries: string[]; hardState: unknown; snapshot: string | undefined }> {
  const log = await FileLog.open(dataDir);
  const entries = log.recovery.entries.map((entry) => new TextDecoder().decode(entry.data));
  const hardState = log.recovery.hardState;
  await log.close();
  const snapshot = await new SnapshotStore(dataDir).loadLatest();
  return { entries, hardState, snapshot: snapshot === undefined ? undefined : new TextDecoder().decode(snapshot.data) };
}

describe("power loss (powerLossFiles)", () => {
  it("a kill -9 loses the unsynced WAL writes and keeps every synced record and snapshot", async () => {
    const after = await recovered(await writeThenKill("power-loss"));
    expect(after).toEqual({ entries: ["synced-1", "synced-2", "synced-3"], hardState: { term: 1, vote: 1, commit: 3 }, snapshot: "snapshot-2" });
  });

  it("without it, the same kill -9 keeps the unsynced writes (the page cache survives a process kill)", async () => {
    const after = await recovered(await writeThenKill("direct"));
    expect(after.entries).toEqual(["synced-1", "synced-2", "synced-3", "unsynced-4", "unsynced-5"]);
    expect(after.hardState).toEqual({ term: 2, vote: 2, commit: 5 });
  });
});

/** The open flags of every descriptor of this process on `file` (from /proc/self/fdinfo). */
async function openFlags(file: string): Promise<number[]> {
  const flags: number[] = [];
  for (const fd of await readdir("/proc/self/fd")) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => "");
    if (target === file) {
      const info = await readFile(`/proc/self/fdinfo/${fd}`, "utf8");
      flags.push(Number.parseInt(/^flags:\s*([0-7]+)/m.exec(info)?.[1] ?? "", 8));
    }
  }
  return flags;
}

describe("durable WAL writes (O_DSYNC)", () => {
  const entry = (index: number): { term: number; index: number; type: "normal"; data: Uint8Array } => ({
    term: 1,
    index,
    type: "normal",
    data: new Uint8Array(600),
  });

  it("every WAL segment, the first, a reopened one and one started when the last filled up, is written with O_DSYNC", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "raftlab-dsync-"));
    directories.push(dataDir);
    const segments = async (): Promise<string[]> => (await readdir(path.join(dataDir, "wal"))).sort().map((name) => path.join(dataDir, "wal", name));
    let log = await FileLog.open(dataDir, { segmentBytesMax: 4096 });
    const [first] = await segments();
    expect(await openFlags(first!)).toEqual([expect.any(Number)]);
    expect((await openFlags(first!))[0]! & constants.O_DSYNC).toBe(constants.O_DSYNC);
    for (let index = 1; index <= 12; index += 1) {
      await log.append([entry(index)]);
      await log.sync();
    }
    const all = await segments();
    expect(all.length).toBeGreaterThan(1);
    expect((await openFlags(all.at(-1)!))[0]! & constants.O_DSYNC).toBe(constants.O_DSYNC);
    expect(log.syncRounds).toBe(12);
    await log.close();
    log = await FileLog.open(dataDir, { segmentBytesMax: 4096 });
    expect(log.recovery.entries.map((recovered) => recovered.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect((await openFlags(all.at(-1)!))[0]! & constants.O_DSYNC).toBe(constants.O_DSYNC);
    await log.close();
  });

  it("the power-loss mode does not grant them: its writes stay in memory until a sync", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "raftlab-dsync-"));
    directories.push(dataDir);
    const log = await FileLog.open(dataDir, { files: powerLossFiles });
    const [segment] = await readdir(path.join(dataDir, "wal"));
    const flags = await openFlags(path.join(dataDir, "wal", segment!));
    expect(flags.length).toBe(1);
    expect(flags[0]! & constants.O_DSYNC).toBe(0);
    await log.close();
  });
});
