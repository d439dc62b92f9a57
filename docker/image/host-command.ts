// Runs host commands (ldd, tar, tsc) for the image build. Plain child_process: execa 10 needs
// Node 22 (it calls Set.prototype.union at import time) and raftlab supports Node 20.
import { spawn } from "node:child_process";

export interface HostCommandResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command args` to completion and collects its output; never throws on a non-zero exit. */
export function runHostCommand(
  command: string,
  args: readonly string[],
  options: { cwd?: string; signal?: AbortSignal | undefined; env?: NodeJS.ProcessEnv } = {},
): Promise<HostCommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      signal: options.signal,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", reject);
    child.on("close", (exitCode) => {
      resolve({ exitCode, stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8") });
    });
  });
}
