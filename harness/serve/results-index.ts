// What `raftlab serve` lists: every run (a folder with summary.json) and every comparison (a folder
// with comparison.json) under the results directory, newest first, with the facts the index
// filters on. Symbolic links are not followed (results/latest points at a run listed anyway), and
// the walk is bounded in depth and in folders.
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";

export type Verdict = "valid" | "invalid" | "unknown" | "crashed" | "running";

export interface IndexEntry {
  kind: "run" | "comparison";
  /** Folder relative to the results directory, with "/" separators. */
  path: string;
  /** The workload's name. */
  workload: string;
  /** Plugins (one for a run). */
  plugins: string[];
  runtime: string;
  verdict: Verdict;
  /** ISO start time ("" when unknown). */
  started: string;
  seed: number | null;
  /** For a run: throughput; for a comparison: its run count. */
  detail: string;
  /** The comparison this run belongs to, if any (its folder). */
  partOf: string | null;
  /** Files of the folder worth linking, by name. */
  files: string[];
}

const depthMax = 8;
const foldersMax = 20_000;
const linkedFiles = ["report.html", "linearizability.html", "compare.html", "summary.json", "comparison.json", "history.jsonl", "workload.yaml", "nodes"];

export async function indexResults(root: string): Promise<IndexEntry[]> {
  const entries: IndexEntry[] = [];
  let folders = 0;
  const walk = async (directory: string, depth: number): Promise<void> => {
    folders += 1;
    if (depth > depthMax || folders > foldersMax) {
      return;
    }
    const children = await readdir(directory, { withFileTypes: true }).catch(() => []);
    const names = new Set(children.map((child) => child.name));
    const path = relative(root, directory).split(sep).join("/");
    const files = linkedFiles.filter((name) => names.has(name));
    if (names.has("comparison.json")) {
      const entry = await comparisonEntry(join(directory, "comparison.json"), path, files);
      if (entry !== undefined) {
        entries.push(entry);
      }
    } else if (names.has("summary.json")) {
      const entry = await runEntry(join(directory, "summary.json"), path, files);
      if (entry !== undefined) {
        entries.push(entry);
      }
      return; // a run's folder holds no further runs
    }
    for (const child of children) {
      if (child.isDirectory() && child.name !== "nodes" && !child.name.startsWith(".")) {
        await walk(join(directory, child.name), depth + 1);
      }
    }
  };
  await walk(root, 0);
  // Runs inside a comparison name it, so the index can group or filter them.
  const comparisons = entries.filter((entry) => entry.kind === "comparison").map((entry) => entry.path);
  for (const entry of entries) {
    if (entry.kind === "run") {
      entry.partOf = comparisons.find((path) => path === "" || entry.path.startsWith(`${path}/`)) ?? null;
    }
  }
  return entries.sort((left, right) => right.started.localeCompare(left.started) || left.path.localeCompare(right.path));
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(path, "utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function runEntry(file: string, path: string, files: string[]): Promise<IndexEntry | undefined> {
  const summary = await readJson(file);
  if (summary === undefined) {
    return undefined;
  }
  const valid = summary["valid"];
  const perf = (summary["checks"] as Record<string, { throughputOpsPerS?: unknown }> | undefined)?.["perf"];
  return {
    kind: "run",
    path,
    workload: String(summary["name"] ?? ""),
    plugins: [String(summary["plugin"] ?? "")],
    runtime: String(summary["runtime"] ?? ""),
    verdict: valid === true ? "valid" : valid === false ? "invalid" : "unknown",
    started: String(summary["started"] ?? (await modified(file))),
    seed: typeof summary["seed"] === "number" ? summary["seed"] : null,
    detail: typeof perf?.throughputOpsPerS === "number" ? `${perf.throughputOpsPerS} ops/s` : "",
    partOf: null,
    files,
  };
}

async function comparisonEntry(file: string, path: string, files: string[]): Promise<IndexEntry | undefined> {
  const comparison = await readJson(file);
  if (comparison === undefined) {
    return undefined;
  }
  const cells = Array.isArray(comparison["cells"]) ? (comparison["cells"] as { status?: unknown }[]) : [];
  const seeds = Array.isArray(comparison["seeds"]) ? comparison["seeds"].length : 0;
  const plugins = Array.isArray(comparison["plugins"]) ? (comparison["plugins"] as { label?: unknown }[]).map((plugin) => String(plugin.label ?? "")) : [];
  const faultSets = Array.isArray(comparison["fault_sets"]) ? comparison["fault_sets"].length : 0;
  const planned = plugins.length * faultSets * seeds;
  const worst = String(comparison["worst"] ?? "unknown");
  const verdict: Verdict =
    cells.length < planned
      ? "running"
      : worst === "not-run"
        ? "crashed"
        : ((["valid", "invalid", "unknown", "crashed"].includes(worst) ? worst : "unknown") as Verdict);
  return {
    kind: "comparison",
    path,
    workload: String(comparison["name"] ?? ""),
    plugins,
    runtime: String(comparison["runtime"] ?? ""),
    verdict,
    started: String(comparison["started"] ?? (await modified(file))),
    seed: null,
    detail: `${cells.length} of ${planned} run(s)`,
    partOf: null,
    files,
  };
}

async function modified(file: string): Promise<string> {
  return (await stat(file)).mtime.toISOString();
}
