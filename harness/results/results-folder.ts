// Where a run's results go: results/<name>/<timestamp>/ (or the --out directory), with
// results/latest pointing at the newest run made under results/.
import { mkdir, rename, rm, stat, symlink } from "node:fs/promises";
import { join, relative } from "node:path";

export interface ResultsFolder {
  directory: string;
  historyPath: string;
  summaryPath: string;
  workloadPath: string;
  reportPath: string;
  linearizabilityReportPath: string;
  /** The runtime writes node-<id>.log files here. */
  nodeLogDirectory: string;
}

/** "20251129T014818Z": sortable, and valid in file names everywhere. */
export function runTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

export function resultsFolderAt(directory: string): ResultsFolder {
  return {
    directory,
    historyPath: join(directory, "history.jsonl"),
    summaryPath: join(directory, "summary.json"),
    workloadPath: join(directory, "workload.yaml"),
    reportPath: join(directory, "report.html"),
    linearizabilityReportPath: join(directory, "linearizability.html"),
    nodeLogDirectory: join(directory, "nodes"),
  };
}

/**
 * Creates the run's folder: `out` when given, else `<root>/<name>/<timestamp>` (with a suffix when
 * two runs start in the same second).
 */
export async function createResultsFolder(options: { root: string; name: string; started: Date; out?: string }): Promise<ResultsFolder> {
  let directory = options.out;
  if (directory === undefined) {
    const base = join(options.root, options.name, runTimestamp(options.started));
    directory = base;
    for (let attempt = 2; await exists(directory); attempt += 1) {
      directory = `${base}-${attempt}`;
    }
  }
  const folder = resultsFolderAt(directory);
  await mkdir(folder.nodeLogDirectory, { recursive: true });
  return folder;
}

/** Points `<root>/latest` at `directory` (relative link), replacing the old link atomically. */
export async function updateLatestLink(root: string, directory: string): Promise<void> {
  const link = join(root, "latest");
  const temporary = join(root, `.latest-${process.pid}`);
  await rm(temporary, { force: true });
  await symlink(relative(root, directory), temporary);
  await rename(temporary, link);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return false;
    }
    throw error;
  }
}
