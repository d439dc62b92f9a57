import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { decodeConfChangeEntryData } from "../conf-change-data.js";
import { createJsonLogger } from "../logger.js";
import { SnapshotStore } from "./snapshot-store.js";
import { recoverStorage, RecoveryError } from "./storage-recovery.js";

const lines: string[] = [];
const logger = createJsonLogger({ node: 1, write: (line) => lines.push(line) });
let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "raftlab-recovery-"));
  lines.length = 0;
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe("recoverStorage", () => {
  it("bootstraps a new member with one committed addNode entry per initial voter, once", async () => {
    const first = await recoverStorage({ dataDir, bootstrapVoters: [3, 1, 2], logger });
    const { initial } = first;
    expect(initial.hardState).toEqual({ term: 1, vote: 0, commit: 3 });
    expect(initial.confState).toEqual({ voters: [] });
    expect(initial.applied).toBe(0);
    expect(initial.entries.map((e) => [e.index, e.term, e.type, decodeConfChangeEntryData(e.data, e.index).nodeId])).toEqual([
      [1, 1, "confChange", 1],
      [2, 1, "confChange", 2],
      [3, 1, "confChange", 3],
    ]);
    await first.fileLog.close();
    const again = await recoverStorage({ dataDir, bootstrapVoters: [1, 2, 3], logger });
    expect(again.initial.entries.map((e) => e.index)).toEqual([1, 2, 3]);
    expect(lines.filter((line) => line.includes("bootstrapped")).length).toBe(1);
    await again.fileLog.close();
  });

  // etcd --initial-cluster-state existing: a member started before must find its data. A wiped
  // directory bootstrapping again would restart at term 1 with no vote and could vote twice in a term.
  it("refuses to bootstrap an empty data directory of a member that was started before", async () => {
    await expect(recoverStorage({ dataDir, bootstrapVoters: [1, 2, 3], initialClusterState: "existing", logger })).rejects.toThrow(
      /the data directory is empty, but --initial-cluster-state existing/,
    );
    const joined = await recoverStorage({ dataDir, bootstrapVoters: undefined, initialClusterState: "existing", logger });
    expect(joined.initial.entries).toEqual([]);
    await joined.fileLog.close();
  });

  it("starts a --join node empty", async () => {
    const recovered = await recoverStorage({ dataDir, bootstrapVoters: undefined, logger });
    expect(recovered.initial).toEqual({ hardState: { term: 0, vote: 0, commit: 0 }, entries: [], confState: { voters: [] }, applied: 0 });
    await recovered.fileLog.close();
  });

  it("writes the WAL marker for a snapshot saved just before a crash, and starts from it", async () => {
    const first = await recoverStorage({ dataDir, bootstrapVoters: [1, 2, 3], logger });
    await first.fileLog.append([{ term: 2, index: 4, type: "normal", data: new Uint8Array([1]) }], { term: 2, vote: 1, commit: 4 });
    await first.fileLog.sync();
    await first.fileLog.close();
    await new SnapshotStore(dataDir).save({ metadata: { index: 3, term: 1, confState: { voters: [1, 2, 3] } }, data: new Uint8Array([7]) });
    const recovered = await recoverStorage({ dataDir, bootstrapVoters: [1, 2, 3], logger });
    expect(recovered.initial.applied).toBe(3);
    expect(recovered.initial.confState).toEqual({ voters: [1, 2, 3] });
    expect(recovered.initial.entries.map((e) => e.index)).toEqual([4]);
    expect(recovered.fileLog.snapshotIndex).toBe(3);
    await recovered.fileLog.close();
  });

  it("refuses to start when the WAL names a snapshot that is not on disk", async () => {
    const first = await recoverStorage({ dataDir, bootstrapVoters: [1], logger });
    await first.fileLog.markSnapshot({ index: 3, term: 1 });
    await first.fileLog.sync();
    await first.fileLog.close();
    await expect(recoverStorage({ dataDir, bootstrapVoters: [1], logger })).rejects.toThrow(RecoveryError);
  });
});
