// A cross-process lock made of a directory (mkdir is atomic), so that two test files or two
// harness runs do not build and import the same node image at the same time.
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sleep } from "../../lib/deadline.js";
import { DockerRuntimeError } from "./docker-error.js";

const pollIntervalMs = 200;
/** A lock older than this is from a process that hung or died without cleaning up. */
const staleAfterMs = 10 * 60_000;
const waitLimitMs = 15 * 60_000;

export async function withFileLock<T>(lockPath: string, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + waitLimitMs;
  for (;;) {
    signal?.throwIfAborted();
    try {
      await mkdir(lockPath);
      await writeFile(join(lockPath, "owner"), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw error;
      }
    }
    if (await isStale(lockPath)) {
      await rm(lockPath, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new DockerRuntimeError("DOCKER_IMAGE_FAILED", `waited ${waitLimitMs} ms for the lock ${lockPath}; remove it if no build is running`);
    }
    await sleep(pollIntervalMs, signal);
  }
  try {
    return await work();
  } finally {
    await rm(lockPath, { recursive: true, force: true });
  }
}

async function isStale(lockPath: string): Promise<boolean> {
  let ageMs: number;
  try {
    ageMs = Date.now() - (await stat(lockPath)).mtimeMs;
  } catch {
    return true; // Released meanwhile: retry at once (removing a missing path is harmless).
  }
  if (ageMs > staleAfterMs) {
    return true;
  }
  const owner = Number(await readFile(join(lockPath, "owner"), "utf8").catch(() => ""));
  if (!Number.isSafeInteger(owner) || owner <= 0) {
    // The owner has made the directory but not yet written its pid; give it time.
    return ageMs > 5_000;
  }
  try {
    process.kill(owner, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH"; // The owner died holding the lock.
  }
}
