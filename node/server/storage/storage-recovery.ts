// Opens a node's durable state and turns it into the core's InitialState. A brand-new member of
// the initial configuration writes the bootstrap entries first (like etcd): one addNode confChange
// per initial voter at indexes 1..n, term 1, committed. Every node of the initial configuration
// writes identical bytes (contexts are empty; addresses come from flags), and a node added later
// with --join starts empty and learns the whole configuration by replaying that log (or from a
// snapshot). The core therefore always starts from the snapshot's voters (none without one) and
// rebuilds the configuration by re-applying committed entries after the snapshot.
import type { InitialState } from "../../raft/raw-node.js";
import type { ConfState, Entry, HardState, Snapshot } from "../../raft/messages.js";
import { FileLog } from "./file-log.js";
import { SnapshotStore } from "./snapshot-store.js";
import { encodeConfChangeEntryData } from "../conf-change-data.js";
import type { Logger } from "../../../lib/logger.js";

import type { FileSystem } from "./files.js";
import type { Failpoints } from "../failpoints.js";

export interface RecoveredStorage {
  fileLog: FileLog;
  snapshotStore: SnapshotStore;
  snapshot: Snapshot | undefined;
  initial: InitialState;
}

export interface RecoverOptions {
  dataDir: string;
  /** Voters of the initial configuration, or undefined for a node started with --join. */
  bootstrapVoters: number[] | undefined;
  /**
   * "existing" (etcd's --initial-cluster-state): this member was started before, so an empty data
   * directory means it was wiped and must not bootstrap again. Default "new".
   */
  initialClusterState?: "new" | "existing";
  logger: Logger;
  /** How files are opened for writing (powerLossFiles under test). */
  files?: FileSystem;
  failpoints?: Failpoints;
}

export async function recoverStorage(options: RecoverOptions): Promise<RecoveredStorage> {
  const { logger } = options;
  const shared = {
    ...(options.files === undefined ? {} : { files: options.files }),
    ...(options.failpoints === undefined ? {} : { failpoints: options.failpoints }),
  };
  const fileLog = await FileLog.open(options.dataDir, { logger: logger.child({ component: "wal" }), ...shared });
  try {
    const snapshotStore = new SnapshotStore(options.dataDir, { logger: logger.child({ component: "snapshots" }), ...shared });
    const snapshot = await snapshotStore.loadLatest();
    const recovery = fileLog.recovery;
    if (recovery.truncatedTail !== undefined) {
      logger.warn("recovered from a torn WAL tail", { ...recovery.truncatedTail });
    }
    const markerIndex = recovery.snapshot?.index ?? 0;
    if (markerIndex > 0 && (snapshot === undefined || snapshot.metadata.index < markerIndex)) {
      throw new RecoveryError(
        `${options.dataDir}: the WAL says a snapshot covers the log up to index ${markerIndex}, ` +
          `but the newest snapshot on disk is ${snapshot === undefined ? "missing" : `at index ${snapshot.metadata.index}`}`,
      );
    }
    let entries = recovery.entries;
    if (snapshot !== undefined && snapshot.metadata.index > markerIndex) {
      // Crashed after saving a snapshot and before its WAL marker: record the marker now so the
      // log and the core agree on where the log starts.
      const keepSuffix = fileLog.termAt(snapshot.metadata.index) === snapshot.metadata.term;
      await fileLog.markSnapshot({ index: snapshot.metadata.index, term: snapshot.metadata.term });
      await fileLog.sync();
      entries = keepSuffix ? entries.filter((entry) => entry.index > snapshot.metadata.index) : [];
      logger.info("recorded a WAL marker for a snapshot saved before a crash", { index: snapshot.metadata.index });
    }
    let hardState: HardState = recovery.hardState ?? { term: 0, vote: 0, commit: 0 };
    const isEmpty = snapshot === undefined && entries.length === 0 && recovery.hardState === undefined;
    if (isEmpty && options.bootstrapVoters !== undefined && options.initialClusterState === "existing") {
      // Bootstrapping again would restart this member at term 1 without its vote: it could vote
      // twice in a term and elect two leaders. Joining starts empty and takes the leader's log.
      throw new RecoveryError(
        `${options.dataDir}: the data directory is empty, but --initial-cluster-state existing says this member ran before ` +
          "(a wiped directory must not bootstrap again: it could vote twice in a term); restore its data, or remove the member " +
          "and add it back, starting it with --join",
      );
    }
    if (isEmpty && options.bootstrapVoters !== undefined) {
      entries = bootstrapEntries(options.bootstrapVoters);
      hardState = { term: 1, vote: 0, commit: entries.length };
      await fileLog.append(entries, hardState);
      await fileLog.sync();
      logger.info("bootstrapped a new cluster member", { voters: options.bootstrapVoters });
    }
    const snapshotIndex = snapshot?.metadata.index ?? 0;
    const lastIndex = entries[entries.length - 1]?.index ?? snapshotIndex;
    // The hard state is written after its entries, so commit <= lastIndex; a snapshot is committed.
    hardState = { ...hardState, commit: Math.min(Math.max(hardState.commit, snapshotIndex), lastIndex) };
    const confState: ConfState = snapshot?.metadata.confState ?? { voters: [] };
    const initial: InitialState = { hardState, entries, confState, applied: snapshotIndex };
    if (snapshot !== undefined) {
      initial.snapshot = snapshot;
    }
    return { fileLog, snapshotStore, snapshot, initial };
  } catch (error) {
    await fileLog.close().catch(() => undefined);
    throw error;
  }
}

function bootstrapEntries(voters: number[]): Entry[] {
  return [...voters]
    .sort((a, b) => a - b)
    .map((nodeId, k) => ({
      term: 1,
      index: k + 1,
      type: "confChange" as const,
      data: encodeConfChangeEntryData({ type: "addNode", nodeId, context: new Uint8Array() }),
    }));
}

export class RecoveryError extends Error {
  readonly code = "RECOVERY_FAILED";
  override readonly name = "RecoveryError";
}
