import fc from "fast-check";
import { mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { Entry, HardState } from "../../raft/messages.js";
import { FileLog } from "./file-log.js";
import { StorageError } from "./storage-error.js";
import { RecordingLogger } from "../../../lib/testing/recording-logger.js";
import { readRecordAt } from "./wal-record.js";

const directories: string[] = [];
async function dataDirectory(): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), "raftlab-wal-"));
  directories.push(directory);
  return directory;
}
afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

function entry(index: number, term: number, size = 16): Entry {
  return { index, term, type: "normal", data: Buffer.alloc(size, index % 251) };
}
function entries(from: number, to: number, term: number, size = 16): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, k) => entry(from + k, term, size));
}
/** Index/term pairs: enough to compare logs without dumping bytes. */
function shape(list: readonly Entry[]): string[] {
  return list.map((e) => `${e.index}@${e.term}:${Buffer.from(e.data).toString("hex").slice(0, 4)}`);
}
async function storageError(promise: Promise<unknown>): Promise<StorageError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StorageError) {
      return error;
    }
    throw error;
  }
  throw new Error("expected a StorageError");
}
/** Opens, takes what recovery found, closes. */
async function recover(data: string, options: { segmentBytesMax?: number } = {}): Promise<FileLog["recovery"]> {
  const log = await FileLog.open(data, options);
  await log.close();
  return log.recovery;
}

/** Offsets where records start in a segment, plus its length. */
function recordBoundaries(bytes: Buffer): number[] {
  const boundaries = [0];
  for (let offset = 0; ;) {
    const scan = readRecordAt(bytes, offset, "test");
    if (scan.status !== "ok") {
      return boundaries;
    }
    offset = scan.nextOffset;
    boundaries.push(offset);
  }
}

describe("FileLog", () => {
  test("entries and hard state written and synced are recovered on reopen", async () => {
    const data = await dataDirectory();
    const log = await FileLog.open(data);
    expect(log.recovery).toEqual({ hardState: undefined, entries: [], snapshot: undefined, truncatedTail: undefined });
    await log.append(entries(1, 3, 1), { term: 1, vote: 2, commit: 0 });
    await log.append(entries(4, 5, 1), { term: 1, vote: 2, commit: 3 });
    await log.sync();
    await log.close();

    const reopened = await FileLog.open(data);
    expect(shape(reopened.recovery.entries)).toEqual(shape(entries(1, 5, 1)));
    expect(reopened.recovery.hardState).toEqual({ term: 1, vote: 2, commit: 3 });
    expect(reopened.lastIndex).toBe(5);
    expect(await readdir(path.join(data, "wal"))).toEqual(["0000000000000001.wal"]);
    await reopened.append(entries(6, 6, 2));
    await reopened.sync();
    await reopened.close();
    expect(shape((await recover(data)).entries)).toEqual(shape([...entries(1, 5, 1), ...entries(6, 6, 2)]));
  });

  test("an entry at an existing index replaces it and everything after it", async () => {
    const data = await dataDirectory();
    const log = await FileLog.open(data);
    await log.append(entries(1, 5, 1));
    await log.append(entries(3, 4, 2));
    expect(log.lastIndex).toBe(4);
    expect(log.termAt(3)).toBe(2);
    expect(log.termAt(5)).toBeUndefined();
    await log.sync();
    await log.close();
    const recovered = (await recover(data)).entries;
    expect(shape(recovered)).toEqual(shape([...entries(1, 2, 1), ...entries(3, 4, 2)]));
  });

  test("appends that would leave a hole or touch the snapshot are programmer errors", async () => {
    const log = await FileLog.open(await dataDirectory());
    await expect(log.append(entries(2, 3, 1))).rejects.toThrow(/entry 2 would leave a hole after last index 0/);
    await expect(log.append([entry(1, 1), entry(3, 1)])).rejects.toThrow(/not contiguous at position 1/);
    await log.close();
    expect((await storageError(log.append(entries(1, 1, 1)))).code).toBe("WAL_CLOSED");
  });

  test("a crash at any byte recovers a prefix, cutting the torn tail with a warning", async () => {
    const data = await dataDirectory();
    const log = await FileLog.open(data);
    const written: Entry[] = [];
    for (let ready = 0; ready < 20; ready++) {
      const batch = entries(written.length + 1, written.length + 1 + (ready % 3), 1 + Math.floor(ready / 5), 10 + ready);
      written.push(...batch);
      await log.append(batch, { term: 1 + Math.floor(ready / 5), vote: 1, commit: written.length - 1 });
      await log.sync();
    }
    await log.close();
    const segmentPath = path.join(data, "wal", "0000000000000001.wal");
    const original = await readFile(segmentPath);
    const boundaries = new Set(recordBoundaries(original));
    expect(boundaries.has(original.length)).toBe(true);

    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: original.length }), async (cut) => {
        await writeFile(segmentPath, original.subarray(0, cut));
        const logger = new RecordingLogger();
        const recovered = await FileLog.open(data, { logger });
        const { entries: got, truncatedTail } = recovered.recovery;
        expect(shape(got)).toEqual(shape(written.slice(0, got.length)));
        if (boundaries.has(cut)) {
          expect(truncatedTail).toBeUndefined();
          expect(logger.find("warn")).toEqual([]);
        } else {
          const lastBoundary = Math.max(...[...boundaries].filter((b) => b < cut));
          expect(truncatedTail).toEqual({ path: segmentPath, offset: lastBoundary, bytesDropped: cut - lastBoundary });
          expect(logger.find("warn")).toEqual([
            {
              level: "warn",
              message: "wal: truncating a torn tail left by a crash",
              fields: expect.objectContaining({ path: segmentPath, offset: lastBoundary }),
            },
          ]);
          expect((await stat(segmentPath)).size).toBe(lastBoundary);
        }
        await recovered.close();
      }),
      { numRuns: 60 },
    );
  });

  test("a damaged record followed by valid ones refuses to start, naming file and offset", async () => {
    const data = await dataDirectory();
    const log = await FileLog.open(data);
    for (let i = 1; i <= 10; i++) {
      await log.append([entry(i, 1)]);
    }
    await log.sync();
    await log.close();
    const segmentPath = path.join(data, "wal", "0000000000000001.wal");
    const bytes = await readFile(segmentPath);
    const boundaries = recordBoundaries(bytes);
    const fourthRecord = boundaries[3]!;
    bytes[fourthRecord + 20] = bytes[fourthRecord + 20]! ^ 0x40;
    await writeFile(segmentPath, bytes);
    const error = await storageError(FileLog.open(data));
    expect(error.code).toBe("CORRUPT_WAL");
    expect(error.message).toBe(
      `CORRUPT_WAL: ${segmentPath} at byte offset ${fourthRecord}: bad checksum on a ${boundaries[4]! - fourthRecord - 8}-byte record; valid records follow, so this is not a torn write`,
    );
    expect(await readFile(segmentPath)).toEqual(bytes); // nothing was truncated
  });

  test("damage in the last record is treated as a torn write", async () => {
    const data = await dataDirectory();
    const log = await FileLog.open(data);
    await log.append(entries(1, 4, 1));
    await log.sync();
    await log.close();
    const segmentPath = path.join(data, "wal", "0000000000000001.wal");
    const bytes = await readFile(segmentPath);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await writeFile(segmentPath, bytes);
    const recovered = await FileLog.open(data);
    expect(shape(recovered.recovery.entries)).toEqual(shape(entries(1, 3, 1)));
    await recovered.close();
  });

  test("segments roll at the size limit and replay in order", async () => {
    const data = await dataDirectory();
    const log = await FileLog.open(data, { segmentBytesMax: 1024 });
    for (let i = 1; i <= 100; i += 4) {
      await log.append(entries(i, i + 3, 1, 40), { term: 1, vote: 1, commit: i - 1 });
    }
    await log.sync();
    const names = await readdir(path.join(data, "wal"));
    expect(names.length).toBeGreaterThan(5);
    expect(names.every((name) => /^\d{16}\.wal$/.test(name))).toBe(true);
    for (const name of names) {
      expect((await stat(path.join(data, "wal", name))).size).toBeLessThanOrEqual(1024);
    }
    expect(log.segmentPaths.map((p) => path.basename(p))).toEqual(names);
    await log.close();
    const recovered = await FileLog.open(data, { segmentBytesMax: 1024 });
    expect(shape(recovered.recovery.entries)).toEqual(shape(entries(1, 100, 1, 40)));
    expect(recovered.recovery.hardState).toEqual({ term: 1, vote: 1, commit: 96 });
    await recovered.close();
  });

  test("damage in a segment that is not the last refuses to start", async () => {
    const data = await dataDirectory();
    const log = await FileLog.open(data, { segmentBytesMax: 512 });
    for (let i = 1; i <= 40; i++) {
      await log.append([entry(i, 1, 40)]);
    }
    await log.sync();
    await log.close();
    const [first] = log.segmentPaths;
    const bytes = await readFile(first!);
    await writeFile(first!, bytes.subarray(0, bytes.length - 3));
    const error = await storageError(FileLog.open(data));
    expect(error.message).toMatch(new RegExp(`^CORRUPT_WAL: ${first!}.*at byte offset \\d+: .*later segments exist, so this is not a torn write$`));
  });

  test("a missing segment in the middle is detected", async () => {
    const data = await dataDirectory();
    const log = await FileLog.open(data, { segmentBytesMax: 512 });
    for (let i = 1; i <= 40; i++) {
      await log.append([entry(i, 1, 40)]);
    }
    await log.sync();
    await log.close();
    await unlink(log.segmentPaths[1]!);
    const error = await storageError(FileLog.open(data));
    expect(error.code).toBe("CORRUPT_WAL");
    expect(error.message).toMatch(/entries resume at index \d+ but the log before them ends at \d+ \(a segment is missing\)$/);
  });

  test("compaction deletes segments below the snapshot; state survives in later segments", async () => {
    const data = await dataDirectory();
    const log = await FileLog.open(data, { segmentBytesMax: 1024 });
    await log.append([], { term: 3, vote: 2, commit: 0 });
    for (let i = 1; i <= 100; i++) {
      await log.append([entry(i, 3, 40)]);
    }
    await log.markSnapshot({ index: 60, term: 3 });
    await log.sync();
    const before = log.segmentPaths.length;
    const deleted = await log.compact(60);
    expect(deleted).toBeGreaterThan(0);
    expect(log.segmentPaths).toHaveLength(before - deleted);
    expect((await readdir(path.join(data, "wal"))).length).toBe(before - deleted);
    await expect(log.compact(61)).rejects.toThrow(/past the latest snapshot marker 60/);
    await log.close();

    const recovered = await FileLog.open(data, { segmentBytesMax: 1024 });
    expect(recovered.recovery.snapshot).toEqual({ index: 60, term: 3 });
    expect(shape(recovered.recovery.entries)).toEqual(shape(entries(61, 100, 3, 40)));
    // written once before any entry, so only the segment headers still carry it
    expect(recovered.recovery.hardState).toEqual({ term: 3, vote: 2, commit: 0 });
    await recovered.close();
  });

  test("a snapshot whose entry the log lacks discards the log after it", async () => {
    const data = await dataDirectory();
    const log = await FileLog.open(data);
    await log.append(entries(1, 10, 1));
    await log.markSnapshot({ index: 8, term: 2 });
    expect(log.lastIndex).toBe(8);
    await log.append(entries(9, 9, 2));
    await log.markSnapshot({ index: 9, term: 2 }); // matching: keeps nothing beyond, nothing to keep
    await log.append(entries(10, 11, 2));
    await log.markSnapshot({ index: 10, term: 2 }); // matching: keeps 11
    await log.sync();
    await log.close();
    const recovered = await FileLog.open(data);
    expect(recovered.recovery.snapshot).toEqual({ index: 10, term: 2 });
    expect(shape(recovered.recovery.entries)).toEqual(shape(entries(11, 11, 2)));
    await recovered.close();
  });

  test("random operation sequences recover exactly what a simple model predicts", async () => {
    const operation = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant("append" as const),
          back: fc.nat(3),
          count: fc.integer({ min: 0, max: 5 }),
          termBump: fc.nat(1),
          size: fc.nat(60),
        }),
      },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("snapshot" as const), ahead: fc.nat(4), matching: fc.boolean() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("compact" as const) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("reopen" as const) }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 40 }), async (operations) => {
        const data = await dataDirectory();
        const options = { segmentBytesMax: 400 };
        let log = await FileLog.open(data, options);
        // The model: a snapshot position, the entries after it, the hard state.
        let snapshot = { index: 0, term: 0 };
        let model: Entry[] = [];
        let hardState: HardState | undefined;
        let term = 1;
        const lastIndex = (): number => snapshot.index + model.length;
        const commit = (): number => hardState?.commit ?? 0;
        for (const op of operations) {
          if (op.kind === "append") {
            // Raft never rewrites committed entries.
            const from = Math.max(lastIndex() + 1 - op.back, commit() + 1, snapshot.index + 1);
            term += op.termBump;
            const batch = entries(from, from + op.count - 1, term, op.size);
            if (batch.length > 0) {
              model = [...model.slice(0, from - snapshot.index - 1), ...batch];
            }
            hardState = { term, vote: 1, commit: Math.max(commit(), Math.min(lastIndex(), commit() + 2)) };
            await log.append(batch, hardState);
          } else if (op.kind === "snapshot") {
            const index = Math.min(commit() + op.ahead, lastIndex() + 1);
            if (index < Math.max(snapshot.index, 1)) {
              continue;
            }
            const known = index === snapshot.index ? snapshot.term : model[index - snapshot.index - 1]?.term;
            // A non-matching snapshot only comes from a leader, which never contradicts our commits.
            const matching = op.matching || index <= commit();
            const snapshotTerm = matching && known !== undefined ? known : term + 1;
            const keep = known === snapshotTerm;
            model = keep ? model.slice(index - snapshot.index) : [];
            snapshot = { index, term: snapshotTerm };
            await log.markSnapshot(snapshot);
          } else if (op.kind === "compact") {
            await log.sync();
            await log.compact(snapshot.index);
          } else {
            await log.sync();
            await log.close();
            log = await FileLog.open(data, options);
            expect(log.recovery.truncatedTail).toBeUndefined();
            expect(shape(log.recovery.entries)).toEqual(shape(model));
            expect(log.recovery.hardState).toEqual(hardState);
          }
          expect(log.lastIndex).toBe(lastIndex());
        }
        await log.sync();
        await log.close();
        const recovered = await recover(data, options);
        expect(shape(recovered.entries)).toEqual(shape(model));
        expect(recovered.snapshot).toEqual(snapshot.index === 0 ? undefined : snapshot);
        expect(recovered.hardState).toEqual(hardState);
      }),
      { numRuns: 40 },
    );
  });
});
