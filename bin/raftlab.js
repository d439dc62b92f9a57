#!/usr/bin/env node
// The published entry point runs the compiled CLI; `npm run build` produces dist/.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const compiled = join(root, "dist", "cli", "raftlab.js");
if (!existsSync(compiled)) {
  process.stderr.write(`raftlab: ${compiled} is missing; run \`npm run build\` first\n`);
  process.exit(254);
}
await import(pathToFileURL(compiled).href);
