// Runs the built `raftlab` CLI (dist/cli/raftlab.js) as users do, for end-to-end tests.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readHistoryFile } from "../../history/parse.js";

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const cliPath = join(projectRoot, "dist", "cli", "raftlab.js");

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function requireBuiltCli(): void {
  if (!existsSync(cliPath)) {
    throw new Error(`${cliPath} is missing: run \`npm run build\` first (npm test does)`);
  }
}

/** Runs still going: a test that times out leaves its run behind, with its cluster. */
const liveRuns = new Set<ChildProcess>();

/**
 * Interrupts every run still going (SIGINT: `raftlab run` then tears its cluster down, as after
 * Ctrl-C) and waits for them to exit. Call it in afterEach, so that a test that timed out does not
 * leave containers or node processes competing with the next tests for the CPU.
 */
export async function interruptRuns(): Promise<void> {
  await Promise.all(
    [...liveRuns].map(
      (child) =>
        new Promise<void>((resolveExit) => {
          child.once("close", () => resolveExit());
          child.kill("SIGINT");
          // A run that does not stop within a minute is killed; `raftlab clean` removes what it left.
          setTimeout(() => child.kill("SIGKILL"), 60_000).unref();
        }),
    ),
  );
}

export interface RunCliOptions {
  /** Called with all stderr so far; `send` signals the process (e.g. SIGINT once it has started). */
  onStderr?: (text: string, send: (signal: NodeJS.Signals) => void) => void;
  /** Extra environment (e.g. TMPDIR, so a test sees exactly the temp files a run makes). */
  env?: NodeJS.ProcessEnv;
  /** Close the reading end of stdout at once, as `raftlab ... | head` does once it has its lines. */
  closeStdout?: boolean;
  /** Kill the process (SIGKILL) after this long: a hang then fails the test instead of stalling it. */
  timeoutMs?: number;
}

/** Runs the CLI to completion (or until `onStderr` says to send it a signal). */
export function runCli(args: string[], options: RunCliOptions = {}): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: projectRoot,
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.env === undefined ? {} : { env: { ...process.env, ...options.env } }),
    });
    liveRuns.add(child);
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    let stdout = "";
    let stderr = "";
    if (options.closeStdout === true) {
      child.stdout.destroy();
    } else {
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
      });
    }
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      options.onStderr?.(stderr, (signal) => child.kill(signal));
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      liveRuns.delete(child);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/**
 * A run folder's summary.json. On the way it re-reads the run's history.jsonl with the parser that
 * `raftlab check` uses: every test that looks at a run also asserts that the run never wrote a
 * history its own check would reject (it throws a HistoryError naming the line otherwise).
 */
export async function summaryOf(out: string): Promise<Record<string, unknown>> {
  const historyPath = join(out, "history.jsonl");
  if (existsSync(historyPath)) {
    await readHistoryFile(historyPath);
  }
  return JSON.parse(await readFile(join(out, "summary.json"), "utf8")) as Record<string, unknown>;
}
