// Facts the comparison reads from the nodes' JSON-lines logs: when a node became leader (the
// "role changed" record with role "leader"), the snapshots each node took (their sizes), and the
// nodes' resident memory (the "memory" records each node writes every few seconds).
// Times are wall-clock; history_started in summary.json maps them onto the history's time axis.
import { createReadStream } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";

export interface LeaderChange {
  /** Seconds since history time 0 (negative: before the clients started). */
  timeS: number;
  node: number;
  term: number | null;
}

export interface NodeLogEvents {
  leaderChanges: LeaderChange[];
  /** Bytes of every snapshot a node took, in log order. */
  snapshotBytes: number[];
  /** The largest resident set any node reported, bytes; null when none reported. */
  rssBytesMax: number | null;
}

/** Reads every node-*.log in `logDirectory`; `historyStartedMs` is history time 0 (epoch ms). */
export async function readNodeLogEvents(logDirectory: string, historyStartedMs: number): Promise<NodeLogEvents> {
  const names = (await readdir(logDirectory).catch(() => [] as string[])).filter((name) => /^node-.+\.log$/.test(name)).sort();
  const events: NodeLogEvents = { leaderChanges: [], snapshotBytes: [], rssBytesMax: null };
  for (const name of names) {
    const lines = createInterface({ input: createReadStream(join(logDirectory, name), "utf8"), crlfDelay: Infinity });
    for await (const line of lines) {
      // Cheap filter first: most lines are neither.
      if (!line.includes("role changed") && !line.includes("took a snapshot") && !line.includes('"msg":"memory"')) {
        continue;
      }
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (record["msg"] === "role changed" && record["role"] === "leader") {
        const timeMs = Date.parse(String(record["time"]));
        const node = Number(record["node"] ?? /node-(\d+)/.exec(name)?.[1]);
        if (Number.isFinite(timeMs)) {
          events.leaderChanges.push({ timeS: (timeMs - historyStartedMs) / 1_000, node, term: typeof record["term"] === "number" ? record["term"] : null });
        }
      } else if (record["msg"] === "took a snapshot and compacted the log" && typeof record["bytes"] === "number") {
        events.snapshotBytes.push(record["bytes"]);
      } else if (record["msg"] === "memory" && typeof record["rssBytes"] === "number") {
        events.rssBytesMax = Math.max(events.rssBytesMax ?? 0, record["rssBytes"]);
      }
    }
  }
  events.leaderChanges.sort((left, right) => left.timeS - right.timeS);
  return events;
}
