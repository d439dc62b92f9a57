// Event-loop stalls caused by local snapshots of a large kv state (issue 11, defect 3), in a real
// node (NodeServer, WAL, snapshot files, TCP client port) run in this process: load the state with
// puts, then keep overwriting keys (the state keeps its size) while the node takes periodic
// snapshots, and record the loop's delay with perf_hooks monitorEventLoopDelay. `--one-go` hides
// the kv plugin's beginSnapshot, so the node serialises with snapshot() in one block, as every
// node did before (and as third-party plugins without beginSnapshot still do). Prints figures only.
// `--no-snapshots` measures the same load with snapshots off: the noise floor of this process.
// Usage: npx tsx bench/snapshot-stall.ts [--mb 20] [--value-bytes 1000] [--snapshots 4] [--one-go | --no-snapshots]
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import type { Plugin } from "../plugins/api.js";
import { kvPlugin } from "../plugins/kv/index.js";
import { parseNodeArgs } from "../node/server/config/config.js";
import { NodeServer } from "../node/server/node-server.js";
import { ReplicatedState } from "../node/server/replicated-state.js";
import { RaftClient } from "../node/client/raft-client.js";
import { silentLogger, type LogFields, type Logger } from "../lib/logger.js";
import { freePorts } from "../harness/runtime/local/free-port.js";

const CLIENTS = 32;
const NS_PER_MS = 1e6;

const { values: flags } = parseArgs({
  options: {
    mb: { type: "string", default: "20" },
    "value-bytes": { type: "string", default: "1000" },
    snapshots: { type: "string", default: "4" },
    "one-go": { type: "boolean", default: false },
    "no-snapshots": { type: "boolean", default: false },
  },
});
const stateBytes = Number(flags.mb) * 1024 * 1024;
const valueBytes = Number(flags["value-bytes"]);
const snapshotsWanted = Number(flags.snapshots);
const keys = Math.ceil(stateBytes / valueBytes);
// Snapshots while measuring: one every snapshotEvery overwrites.
const snapshotEvery = Math.max(100, Math.floor(keys / 2));
const snapshotsOff = flags["no-snapshots"];

/** The kv plugin as a third-party plugin without beginSnapshot would be. */
const oneGoKv: Plugin = {
  ...kvPlugin,
  createStateMachine: () => {
    const machine = kvPlugin.createStateMachine();
    return { apply: (op) => machine.apply(op), snapshot: () => machine.snapshot(), restore: (data) => machine.restore(data) };
  },
};

interface SnapshotRecord {
  bytes: number;
  ms: number;
  serialiseMs: number;
  serialiseSlices: number;
  longestSliceMs: number;
}

function recordingLogger(snapshots: SnapshotRecord[]): Logger {
  const logger: Logger = {
    ...silentLogger,
    info: (message: string, fields?: LogFields) => {
      if (message === "took a snapshot and compacted the log" && fields !== undefined) {
        snapshots.push(fields as unknown as SnapshotRecord);
      }
    },
    child: () => logger,
  };
  return logger;
}

async function putAll(client: RaftClient, count: number, keyOf: (i: number) => string, value: string): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const outcome = await client.invoke({ f: "put", key: keyOf(i), value }, { readOnly: false });
      if (outcome.type !== "ok") {
        throw new Error(`put ${keyOf(i)}: ${outcome.type} ${JSON.stringify(outcome.error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, worker));
}

async function main(): Promise<void> {
  const directory = await mkdtemp(path.join(os.tmpdir(), "raftlab-bench-snapshot-"));
  const [peerPort, clientPort] = await freePorts(2);
  const config = parseNodeArgs([
    ...["--id", "1", "--listen", `127.0.0.1:${peerPort}`, "--client-listen", `127.0.0.1:${clientPort}`, "--peers", `1=127.0.0.1:${peerPort}`],
    ...["--plugin", "kv", "--data", directory, "--insecure", "--snapshot-every", String(snapshotsOff ? 1_000_000_000 : snapshotEvery), "--log-level", "info"],
  ]);
  const snapshots: SnapshotRecord[] = [];
  const server = await NodeServer.start(config, flags["one-go"] ? oneGoKv : kvPlugin, recordingLogger(snapshots));
  const client = new RaftClient({ nodes: [{ id: 1, clientAddress: `127.0.0.1:${clientPort}` }], requestTimeoutMs: 10_000, sessions: false });
  try {
    const value = "v".repeat(valueBytes);
    const loadStarted = performance.now();
    await putAll(client, keys, (i) => `key${i}`, value);
    const loadMs = performance.now() - loadStarted;
    // Measure while overwriting keys: the state stays at its size and snapshots keep coming.
    const snapshotsBefore = snapshots.length;
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    histogram.enable();
    const measureStarted = performance.now();
    await putAll(client, snapshotEvery * snapshotsWanted + CLIENTS, (i) => `key${i % keys}`, value.toUpperCase());
    while (!snapshotsOff && snapshots.length - snapshotsBefore < snapshotsWanted) {
      await new Promise((resolve) => setTimeout(resolve, 50)); // the last snapshot's file may still be written
    }
    histogram.disable();
    const measured = snapshots.slice(snapshotsBefore);
    // A restore in one block (a node restarting from its snapshot file does this before it listens;
    // installs from a leader run in slices: bench/snapshot-install-stall.ts): time it on a fresh state.
    const data = server.state.snapshotData();
    const restoreStarted = performance.now();
    new ReplicatedState(kvPlugin, config.sessionsMax).restore(data, "bench");
    const restoreMs = performance.now() - restoreStarted;
    const round = (value: number): number => Math.round(value * 10) / 10;
    process.stdout.write(
      `${JSON.stringify({
        mode: snapshotsOff ? "no snapshots" : flags["one-go"] ? "one-go snapshot()" : "sliced beginSnapshot()",
        keys,
        valueBytes,
        snapshotEvery,
        loadSeconds: round(loadMs / 1000),
        measureSeconds: round((performance.now() - measureStarted) / 1000),
        snapshots: measured.length,
        snapshotBytes: measured.map((record) => record.bytes),
        snapshotMs: measured.map((record) => record.ms),
        serialiseMs: measured.map((record) => record.serialiseMs),
        serialiseSlices: measured.map((record) => record.serialiseSlices),
        longestSliceMs: measured.map((record) => record.longestSliceMs),
        loopDelayMaxMs: round(histogram.max / NS_PER_MS),
        loopDelayP99Ms: round(histogram.percentile(99) / NS_PER_MS),
        loopDelayMeanMs: round(histogram.mean / NS_PER_MS),
        restoreBytes: data.length,
        restoreMs: round(restoreMs),
      })}\n`,
    );
  } finally {
    client.close();
    await server.shutdown("bench done");
    await rm(directory, { recursive: true, force: true });
  }
}

await main();
