// Node data directories as evidence (keep_data): before the cluster is destroyed, every node is
// stopped and its data directory (WAL segments, snapshots, hard state) copied into
// <results>/nodes/<id>/data/; once the verdict is known, a run that needs no evidence drops them.
// `raftlab wal dump <results>/nodes/<id>/data` reads them.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Validity } from "../checks/check-report.js";
import type { Cluster } from "../runtime/runtime.js";
import type { KeepData } from "../workload/schema.js";

/** Where node `id`'s data goes, relative to the results folder (stable: summary.json lists these). */
export function nodeDataPath(id: number): string {
  return `nodes/${id}/data`;
}

/** Whether a run with this verdict keeps its copies. */
export function keepsNodeData(keepData: KeepData, valid: Validity): boolean {
  return keepData === "always" || (keepData === "failed" && valid !== true);
}

/**
 * Stops every node, then copies its data directory into the results folder. Returns the paths
 * copied (relative to the folder); a node that cannot be copied is logged and left out, never
 * failing the run.
 */
export async function copyNodeData(cluster: Cluster, resultsDirectory: string, log: (line: string) => void, signal: AbortSignal): Promise<string[]> {
  const copyData = cluster.copyData?.bind(cluster);
  if (copyData === undefined) {
    log(`keep_data: the ${cluster.runtime} runtime cannot copy node data directories; none kept`);
    return [];
  }
  const ids = cluster.nodes.map((node) => node.id);
  // Stopped first, so that no node writes while its files are copied.
  await Promise.all(ids.map((id) => cluster.stop(id, signal).catch(() => undefined)));
  const kept: string[] = [];
  for (const id of ids) {
    try {
      await copyData(id, join(resultsDirectory, nodeDataPath(id)), signal);
      kept.push(nodeDataPath(id));
    } catch (error) {
      log(`keep_data: could not copy node ${id}'s data directory: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return kept;
}

/** Removes copies a valid run does not keep (nodes/<id>/ as a whole: the logs stay beside it). */
export async function discardNodeData(resultsDirectory: string, kept: readonly string[]): Promise<void> {
  await Promise.all(kept.map((path) => rm(join(resultsDirectory, path, ".."), { recursive: true, force: true })));
}
