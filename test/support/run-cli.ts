// Runs the built `raftlab` CLI (dist/harness/cli.js) as users do, for end-to-end tests.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const cliPath = join(projectRoot, "dist", "harness", "cli.js");

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

/** Runs the CLI to completion (or until `onStderr` says to send it a signal). */
export function runCli(args: string[], options: { onStderr?: (text: string, send: (signal: NodeJS.Signals) => void) => void } = {}): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      options.onStderr?.(stderr, (signal) => child.kill(signal));
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

/** A run folder's summary.json. */
export async function summaryOf(out: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(out, "summary.json"), "utf8")) as Record<string, unknown>;
}
