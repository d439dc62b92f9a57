import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { Snapshot } from "../../raft/messages.js";
import { SnapshotStore } from "./snapshot-store.js";
import { RecordingLogger } from "../../../lib/testing/recording-logger.js";

const directories: string[] = [];
async function dataDirectory(): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), "raftlab-snap-"));
  directories.push(directory);
  return directory;
}
afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

function snapshot(index: number, term: number, dataBytes = 1000): Snapshot {
  return {
    metadata: { index, term, confState: { voters: [1, 2, 3] } },
    data: Buffer.from(Array.from({ length: dataBytes }, (_, k) => (k * 7 + index) % 256)),
  };
}

function plain(value: Snapshot | undefined): unknown {
  return value === undefined ? undefined : { metadata: value.metadata, data: Buffer.from(value.data).toString("base64") };
}

describe("SnapshotStore", () => {
  test("an empty or missing directory has no snapshot", async () => {
    expect(await new SnapshotStore(await dataDirectory()).loadLatest()).toBeUndefined();
  });

  test("save then loadLatest returns the snapshot, in a file named by index and term", async () => {
    const data = await dataDirectory();
    const store = new SnapshotStore(data);
    const saved = await store.save(snapshot(42, 3));
    expect(saved).toBe(path.join(data, "snap", "0000000000000042-3.snap"));
    expect(plain(await new SnapshotStore(data).loadLatest())).toEqual(plain(snapshot(42, 3)));
    const empty = { metadata: { index: 1, term: 1, confState: { voters: [] } }, data: new Uint8Array() };
    await store.save(empty);
    expect(plain(await store.loadLatest())).toEqual(plain(snapshot(42, 3)));
  });

  test("keeps the newest two after each save", async () => {
    const data = await dataDirectory();
    const store = new SnapshotStore(data);
    for (const index of [10, 20, 30, 40]) {
      await store.save(snapshot(index, 1));
    }
    expect(await readdir(path.join(data, "snap"))).toEqual(["0000000000000030-1.snap", "0000000000000040-1.snap"]);
  });

  test("a temp file left by a crashed save is ignored with a warning, then cleaned up", async () => {
    const data = await dataDirectory();
    const logger = new RecordingLogger();
    const store = new SnapshotStore(data, { logger });
    await store.save(snapshot(10, 1));
    const tempPath = path.join(data, "snap", "0000000000000020-1.snap.tmp");
    const whole = await readFile(path.join(data, "snap", "0000000000000010-1.snap"));
    await writeFile(tempPath, whole.subarray(0, 100));
    expect(plain(await store.loadLatest())).toEqual(plain(snapshot(10, 1)));
    expect(logger.find("warn").map((record) => record.fields["path"])).toEqual([tempPath]);
    await store.save(snapshot(30, 2));
    expect(await readdir(path.join(data, "snap"))).toEqual(["0000000000000010-1.snap", "0000000000000030-2.snap"]);
  });

  test("a damaged newest snapshot is skipped with a warning naming it; the previous one loads", async () => {
    const data = await dataDirectory();
    const store = new SnapshotStore(data);
    await store.save(snapshot(10, 1));
    const newest = await store.save(snapshot(20, 1));
    const bytes = await readFile(newest);
    bytes[500] = bytes[500]! ^ 0x01;
    await writeFile(newest, bytes);
    const logger = new RecordingLogger();
    expect(plain(await new SnapshotStore(data, { logger }).loadLatest())).toEqual(plain(snapshot(10, 1)));
    expect(logger.find("warn")).toEqual([
      {
        level: "warn",
        message: "snapshot: skipping an unreadable snapshot file",
        fields: {
          path: newest,
          reason: expect.stringMatching(
            new RegExp(`^BAD_VALUE: ${newest}: field checksum at byte 8: crc32c of the contents is 0x[0-9a-f]+, header says 0x[0-9a-f]+$`),
          ),
        },
      },
    ]);

    await writeFile(newest, bytes.subarray(0, 30));
    expect(plain(await new SnapshotStore(data).loadLatest())).toEqual(plain(snapshot(10, 1)));
  });

  test("a file whose contents disagree with its name is skipped", async () => {
    const data = await dataDirectory();
    const store = new SnapshotStore(data);
    const older = await store.save(snapshot(10, 1));
    await writeFile(path.join(data, "snap", "0000000000000099-9.snap"), await readFile(older));
    const logger = new RecordingLogger();
    expect(plain(await new SnapshotStore(data, { logger }).loadLatest())).toEqual(plain(snapshot(10, 1)));
    expect(logger.find("warn")[0]?.fields["reason"]).toBe("holds index 10 term 1, not what its name says");
  });

  test("concurrent saves are serialised and the newest two survive", async () => {
    const data = await dataDirectory();
    const store = new SnapshotStore(data);
    await Promise.all([1, 2, 3, 4, 5].map((index) => store.save(snapshot(index * 10, 1, 100_000))));
    expect(await readdir(path.join(data, "snap"))).toEqual(["0000000000000040-1.snap", "0000000000000050-1.snap"]);
    expect(plain(await store.loadLatest())).toEqual(plain(snapshot(50, 1, 100_000)));
  });
});
