// Which nodes a nemesis event touched, as a short label for the reports' fault bands: "nodes 2, 3"
// for node faults (kill, pause: `value.nodes`), "1 2 | 3 4 5" for a partition (`value.grudge`, each
// node's dropped senders: nodes that hear the same set are one side; "1 | 3 bridged by 2" when a
// bridge node hears both). Shared by report.html and
// the checker's linearizability view, which read the same nemesis records.
import type { HistoryEvent } from "./event.js";

export function faultTargets(value: unknown): string {
  if (typeof value !== "object" || value === null) {
    return "";
  }
  const record = value as Record<string, unknown>;
  if (Array.isArray(record["nodes"])) {
    return `node${record["nodes"].length === 1 ? "" : "s"} ${record["nodes"].map(String).join(", ")}`;
  }
  // Partitions whose sides overlap are named by the nemesis's own details rather than by sides.
  if (Array.isArray(record["ring"])) {
    return `ring ${record["ring"].map(String).join("-")}`;
  }
  const silenced = record["outboundDropped"];
  if (typeof silenced === "number" || Array.isArray(silenced)) {
    return `outbound of node ${[silenced].flat().map(String).join(", ")} dropped`;
  }
  const grudge = record["grudge"];
  if (typeof grudge === "object" && grudge !== null && !Array.isArray(grudge)) {
    // A bridge node hears both sides: name the sides without it, then the bridge.
    const bridge = record["bridge"];
    if (typeof bridge === "number") {
      return `${partitionSides(grudge as Record<string, unknown>, bridge)} bridged by ${bridge}`;
    }
    return partitionSides(grudge as Record<string, unknown>);
  }
  const node = record["node"] ?? record["leader"];
  return typeof node === "number" || typeof node === "string" ? `node ${String(node)}` : "";
}

function partitionSides(grudge: Record<string, unknown>, bridge?: number): string {
  const dropped = new Map<number, Set<number>>();
  const all = new Set<number>();
  for (const [node, senders] of Object.entries(grudge)) {
    const id = Number(node);
    all.add(id);
    const set = new Set<number>(Array.isArray(senders) ? senders.map(Number) : []);
    set.forEach((sender) => all.add(sender));
    dropped.set(id, set);
  }
  // A node's side is every node it still hears from; nodes that hear the same set share a side.
  const sides = new Map<string, number[]>();
  all.delete(bridge ?? Number.NaN);
  for (const node of [...all].sort((a, b) => a - b)) {
    const hears = [...all].filter((other) => !(dropped.get(node)?.has(other) ?? false)).join(",");
    sides.set(hears, [...(sides.get(hears) ?? []), node]);
  }
  return [...sides.values()].map((side) => side.join(" ")).join(" | ");
}

/** A fault window in both of the linearizability view's axes: event index and run time. */
export interface NemesisWindow {
  f: string;
  targets: string;
  startEvent: number;
  endEvent: number;
  startMs: number;
  endMs: number;
}

/**
 * Fault windows from the nemesis events: a fault starts at its `invoke` and lasts until the next
 * completed heal (`info` with f "heal") or the history's end, as harness/checks/perf.ts reads them.
 */
export function nemesisWindows(events: readonly HistoryEvent[]): NemesisWindow[] {
  const windows: NemesisWindow[] = [];
  const open: NemesisWindow[] = [];
  const last = events[events.length - 1];
  for (const [index, event] of events.entries()) {
    if (event.process !== "nemesis") {
      continue;
    }
    const timeMs = round(event.time / 1e6);
    if (event.f === "heal") {
      if (event.type === "info") {
        for (const window of open.splice(0)) {
          window.endEvent = index;
          window.endMs = timeMs;
        }
      }
      continue;
    }
    if (event.type === "invoke") {
      const window = { f: event.f, targets: "", startEvent: index, endEvent: events.length, startMs: timeMs, endMs: round((last?.time ?? 0) / 1e6) };
      windows.push(window);
      open.push(window);
    } else {
      const window = open.findLast((candidate) => candidate.f === event.f);
      if (window !== undefined) {
        window.targets = faultTargets(event.value);
      }
    }
  }
  return windows;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
