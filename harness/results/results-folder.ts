// Where a run's results go: results/<name>/<timestamp>/ (or the --out directory), with
// results/latest pointing at the newest run made under results/.
import { constants } from "node:fs";
import { access, readdir, rename, rm, stat, symlink } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { makeDirectories } from "../../lib/make-directories.js";

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
  await makeDirectories(folder.nodeLogDirectory);
  return folder;
}

/**
 * Why `--out DIR` cannot take a run's results, or undefined: asked before anything starts, so a bad
 * path costs no cluster. DIR may be missing (it is created) or an empty directory; an existing file
 * or a directory with something in it is refused rather than mixed with a new run's files.
 */
export async function outDirectoryProblem(out: string): Promise<string | undefined> {
  try {
    const existing = await stat(out);
    if (!existing.isDirectory()) {
      return `${out} exists and is not a directory`;
    }
    if ((await readdir(out)).length > 0) {
      return `${out} is not empty: give a new or an empty directory, so that results of two runs never mix`;
    }
    return writableProblem(out);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      return `cannot use ${out}: ${(error as Error).message}`;
    }
  }
  // Missing: its nearest existing ancestor must be a directory we may write in.
  let ancestor = dirname(resolve(out));
  for (;;) {
    try {
      if (!(await stat(ancestor)).isDirectory()) {
        return `cannot create ${out}: ${ancestor} is not a directory`;
      }
      return writableProblem(ancestor, out);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || dirname(ancestor) === ancestor) {
        return `cannot create ${out}: ${(error as Error).message}`;
      }
      ancestor = dirname(ancestor);
    }
  }
}

async function writableProblem(directory: string, creating?: string): Promise<string | undefined> {
  try {
    await access(directory, constants.W_OK | constants.X_OK);
    return undefined;
  } catch {
    return creating === undefined ? `cannot write in ${directory}` : `cannot create ${creating}: ${directory} is not writable`;
  }
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
