#!/usr/bin/env node
// The node server's own entry (`raftlab-node --id 1 ...` is `raftlab node --id 1 ...`): it loads
// only dist/node, dist/plugins and dist/lib, which is all the node image carries.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const compiled = join(root, "dist", "node", "server", "main.js");
if (!existsSync(compiled)) {
  process.stderr.write(`raftlab-node: ${compiled} is missing; run \`npm run build\` first\n`);
  process.exit(254);
}
const { nodeCommand } = await import(pathToFileURL(compiled).href);
try {
  process.exitCode = await nodeCommand(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`raftlab-node: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 255;
}
