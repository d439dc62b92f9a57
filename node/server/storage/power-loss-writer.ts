// Test fixture for files.test.ts, run as a child process: writes a WAL with a synced part and an
// unsynced part, says "ready" on stdout, then waits to be killed with SIGKILL.
// argv: DATA_DIR direct|power-loss
import { FileLog } from "./file-log.js";
import { directFiles, powerLossFiles } from "./files.js";
import { SnapshotStore } from "./snapshot-store.js";

const [dataDir, mode] = process.argv.slice(2);
if (dataDir === undefined || (mode !== "direct" && mode !== "power-loss")) {
  process.stderr.write("usage: power-loss-writer DATA_DIR direct|power-loss\n");
  process.exit(254);
}
const files = mode === "direct" ? directFiles : powerLossFiles;
const data = (text: string): Uint8Array => new TextEncoder().encode(text);
const log = await FileLog.open(dataDir, { files });
await log.append(
  [1, 2, 3].map((index) => ({ term: 1, index, type: "normal" as const, data: data(`synced-${index}`) })),
  { term: 1, vote: 1, commit: 3 },
);
await log.sync();
const store = new SnapshotStore(dataDir, { files });
await store.save({ metadata: { index: 2, term: 1, confState: { voters: [1] } }, data: data("snapshot-2") });
await log.append(
  [4, 5].map((index) => ({ term: 2, index, type: "normal" as const, data: data(`unsynced-${index}`) })),
  { term: 2, vote: 2, commit: 5 },
);
process.stdout.write("ready\n");
setInterval(() => undefined, 1000);
