// `mkdir -p` one level at a time. Node's own recursive mkdir loops forever on some paths where a
// level cannot be created although its parent exists (`/proc/x`: ENOENT from a directory that is
// there), which hung `raftlab run --out /proc/x`; creating each level ourselves fails at once.
import { mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";

/** Creates `path` and any missing parents; resolves when it is a directory. */
export async function makeDirectories(path: string): Promise<void> {
  const missing: string[] = [];
  let current = resolve(path);
  for (;;) {
    try {
      if (!(await stat(current)).isDirectory()) {
        throw Object.assign(new Error(`ENOTDIR: ${current} is not a directory`), { code: "ENOTDIR" });
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        throw error;
      }
      const parent = dirname(current);
      if (parent === current) {
        throw error;
      }
      missing.push(current);
      current = parent;
    }
  }
  for (const directory of missing.reverse()) {
    try {
      await mkdir(directory);
    } catch (error) {
      // Another process may have made it meanwhile; anything else is final.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw error;
      }
    }
  }
}
