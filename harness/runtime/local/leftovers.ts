// What local runs can leave behind, and `raftlab clean` removes: node processes whose harness died
// before --exit-with-parent existed or was honoured (orphans, adopted by init), and the runs' data
// directories <tmp>/raftlab-<runId>/n<id>. A directory some live node still uses, or whose harness
// (harness.pid) still runs, belongs to a run in progress (another terminal, another test) and is
// kept unless that run is named.
import { readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** A raftlab node process found in /proc. */
export interface LocalNodeProcessInfo {
  pid: number;
  ppid: number;
  /** The run's data root, <tmp>/raftlab-<runId>. */
  dataRoot: string;
  /** Its --cluster-id (the run id for harness runs), or undefined. */
  clusterId: string | undefined;
}

export interface LocalLeftoverOptions {
  /** Only this run (its --cluster-id), live or not; default: orphaned nodes and unused data directories. */
  runId?: string;
  /** Where the data roots are (default os.tmpdir()); for tests. */
  temporaryDirectory?: string;
  onRemoved?: (what: string) => void;
}

export interface LocalLeftoverReport {
  processes: number[];
  directories: string[];
  failures: string[];
}

const dataRootPrefix = "raftlab-";
/** In a data root: the pid of the harness that made it, so `clean` leaves a run in progress alone. */
export const harnessPidFile = "harness.pid";
/** In a data root: the run's cluster secret (local-runtime.ts writes it; nodes read it). */
export const clusterSecretFile = "cluster-secret";
/** A process killed with SIGKILL is gone within this, or it is reported. */
const exitWaitMs = 5_000;

/** The raftlab node processes of local runs on this host (Linux /proc; none elsewhere). */
export async function findLocalNodeProcesses(temporaryDirectory = os.tmpdir()): Promise<LocalNodeProcessInfo[]> {
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return [];
  }
  const found: LocalNodeProcessInfo[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    const pid = Number(entry);
    try {
      const argv = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
      const node = localNodeOf(argv, temporaryDirectory);
      if (node === undefined) {
        continue;
      }
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ")".
      const stat = await readFile(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      found.push({ pid, ppid, ...node });
    } catch {
      // The process ended while we looked, or is not ours to read.
    }
  }
  return found;
}

/** The node's data root and cluster id when argv is a raftlab node of a local run, else undefined. */
export function localNodeOf(argv: readonly string[], temporaryDirectory: string): Omit<LocalNodeProcessInfo, "pid" | "ppid"> | undefined {
  const isRaftlabNode = argv.some((arg) => /(^|\/)raftlab-node\.js$/.test(arg) || /(^|\/)node\/server\/main\.(js|ts)$/.test(arg));
  const isNodeCommand = argv.some((arg) => /(^|\/)raftlab\.(js|ts)$/.test(arg)) && argv.includes("node");
  const dataDir = valueOf(argv, "--data");
  if ((!isRaftlabNode && !isNodeCommand) || dataDir === undefined) {
    return undefined;
  }
  const dataRoot = path.dirname(path.resolve(dataDir));
  if (path.dirname(dataRoot) !== path.resolve(temporaryDirectory) || !path.basename(dataRoot).startsWith(dataRootPrefix)) {
    return undefined;
  }
  return { dataRoot, clusterId: valueOf(argv, "--cluster-id") };
}

function valueOf(argv: readonly string[], flag: string): string | undefined {
  const index = argv.indexOf(flag);
  if (index >= 0) {
    return argv[index + 1];
  }
  const inline = argv.find((arg) => arg.startsWith(`${flag}=`));
  return inline?.slice(flag.length + 1);
}

/** Kills leftover local nodes and removes unused data directories of local runs. */
export async function removeLocalLeftovers(options: LocalLeftoverOptions = {}): Promise<LocalLeftoverReport> {
  const temporaryDirectory = options.temporaryDirectory ?? os.tmpdir();
  const report: LocalLeftoverReport = { processes: [], directories: [], failures: [] };
  const nodes = await findLocalNodeProcesses(temporaryDirectory);
  const isTarget = (node: LocalNodeProcessInfo): boolean =>
    options.runId === undefined ? node.ppid === 1 : node.clusterId === options.runId || path.basename(node.dataRoot) === `${dataRootPrefix}${options.runId}`;
  const victims = nodes.filter(isTarget);
  for (const victim of victims) {
    try {
      process.kill(victim.pid, "SIGKILL"); // SIGKILL works on a stopped (paused) process too
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") {
        report.failures.push(`process ${victim.pid}: ${(error as Error).message}`);
        continue;
      }
    }
    report.processes.push(victim.pid);
    options.onRemoved?.(`local node process ${victim.pid} (${victim.dataRoot})`);
  }
  await waitForExits(victims.map((victim) => victim.pid), report);
  const inUse = new Set(nodes.filter((node) => !victims.includes(node)).map((node) => node.dataRoot));
  for (const dataRoot of await localDataRoots(temporaryDirectory)) {
    const named = options.runId === undefined || path.basename(dataRoot) === `${dataRootPrefix}${options.runId}`;
    if (!named || inUse.has(dataRoot) || (options.runId === undefined && (await harnessAlive(dataRoot)))) {
      continue;
    }
    try {
      await rm(dataRoot, { recursive: true, force: true });
      report.directories.push(dataRoot);
      options.onRemoved?.(`local data directory ${dataRoot}`);
    } catch (error) {
      report.failures.push(`directory ${dataRoot}: ${(error as Error).message}`);
    }
  }
  return report;
}

/**
 * Data roots of local runs: <tmp>/raftlab-* holding only n<id> directories, the local runtime's
 * layout, so that other raftlab-* temp directories (a test's, a user's) are never touched.
 */
async function localDataRoots(temporaryDirectory: string): Promise<string[]> {
  const roots: string[] = [];
  for (const entry of await readdir(temporaryDirectory, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory() || !entry.name.startsWith(dataRootPrefix)) {
      continue;
    }
    const root = path.join(temporaryDirectory, entry.name);
    const children = await readdir(root, { withFileTypes: true }).catch(() => undefined);
    const isLayout = (child: { name: string; isDirectory(): boolean }): boolean =>
      (child.isDirectory() && /^n\d+$/.test(child.name)) || child.name === harnessPidFile || child.name === clusterSecretFile;
    if (children !== undefined && children.length > 0 && children.every(isLayout)) {
      roots.push(root);
    }
  }
  return roots;
}

/** Whether the harness that created the data root still runs (all its nodes may be down for a fault). */
async function harnessAlive(dataRoot: string): Promise<boolean> {
  const text = await readFile(path.join(dataRoot, harnessPidFile), "utf8").catch(() => "");
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 && isAlive(pid);
}

async function waitForExits(pids: readonly number[], report: LocalLeftoverReport): Promise<void> {
  const deadline = Date.now() + exitWaitMs;
  let alive = [...pids];
  while (alive.length > 0 && Date.now() < deadline) {
    alive = alive.filter((pid) => isAlive(pid));
    if (alive.length > 0) {
      await sleep(50);
    }
  }
  for (const pid of alive) {
    report.failures.push(`process ${pid}: still running ${exitWaitMs} ms after SIGKILL`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
