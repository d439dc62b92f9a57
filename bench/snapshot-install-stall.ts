// Event-loop stalls while a follower installs a leader's snapshot of a large kv state (issue 11,
// defect 3), through the node's own install code (EntryApplier), in this process and without a
// cluster: build the state, serialise it as a node does (ReplicatedState.beginSnapshot, 64 KiB
// slices), then install it into fresh followers' appliers, recording the loop's delay with
// perf_hooks monitorEventLoopDelay. `one-go` installs with installSnapshot() in one block, as a
// node does for a plugin without beginRestore (and as every node did before); `sliced` runs
// beginInstall() one step per turn of the event loop (setImmediate between steps), as the Ready
// pipeline does. Prints figures only.
// Usage: npx tsx bench/snapshot-install-stall.ts [--mb 20] [--value-bytes 1000] [--rounds 3]
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import type { Plugin } from "../plugins/api.js";
import { kvPlugin } from "../plugins/kv/index.js";
import { EntryApplier } from "../node/server/entry-applier.js";
import { ReplicatedState } from "../node/server/replicated-state.js";
import type { Snapshot } from "../node/raft/messages.js";
import { silentLogger } from "../lib/logger.js";

const NS_PER_MS = 1e6;
const SESSIONS_MAX = 10_000;
const SLICE_BYTES = 64 * 1024;

const { values: flags } = parseArgs({
  options: {
    mb: { type: "string", default: "20" },
    "value-bytes": { type: "string", default: "1000" },
    rounds: { type: "string", default: "3" },
  },
});
const stateBytes = Number(flags.mb) * 1024 * 1024;
const valueBytes = Number(flags["value-bytes"]);
const rounds = Number(flags.rounds);
const keys = Math.ceil(stateBytes / valueBytes);

/** The kv plugin as a third-party plugin without beginRestore (or beginSnapshot) would be. */
const oneGoKv: Plugin = {
  ...kvPlugin,
  createStateMachine: () => {
    const machine = kvPlugin.createStateMachine();
    return { apply: (op) => machine.apply(op), snapshot: () => machine.snapshot(), restore: (data) => machine.restore(data) };
  },
};

function applierFor(plugin: Plugin): EntryApplier {
  return new EntryApplier({
    selfId: 2,
    state: new ReplicatedState(plugin, SESSIONS_MAX),
    applyConfChange: () => ({ voters: [1, 2, 3] }),
    peers: { addPeer: () => undefined, removePeer: () => undefined },
    flagPeerAddress: () => "127.0.0.1:1",
    results: { onCommandApplied: () => undefined, onConfChangeApplied: () => undefined },
    logger: silentLogger,
    initialConfState: { voters: [1, 2, 3] },
  });
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Serialises the leader's state as a node does: 64 KiB slices of the frozen state. */
async function leaderSnapshot(): Promise<Snapshot> {
  const leader = new ReplicatedState(kvPlugin, SESSIONS_MAX);
  const value = "v".repeat(valueBytes);
  for (let i = 0; i < keys; i++) {
    leader.stateMachine.apply({ f: "put", key: `key${i}`, value });
  }
  const serialiser = leader.beginSnapshot(SLICE_BYTES);
  let data = serialiser.step();
  while (data === undefined) {
    data = serialiser.step();
  }
  return { metadata: { index: keys, term: 1, confState: { voters: [1, 2, 3] } }, data };
}

interface InstallFigures {
  mode: "one-go" | "sliced";
  ms: number;
  slices: number;
  longestSliceMs: number;
  loopDelayMaxMs: number;
}

async function install(snapshot: Snapshot, mode: InstallFigures["mode"]): Promise<InstallFigures> {
  const applier = applierFor(mode === "one-go" ? oneGoKv : kvPlugin);
  await turn();
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  await new Promise((resolve) => setTimeout(resolve, 20)); // the histogram's first samples
  const started = performance.now();
  let slices = 0;
  let longestSliceMs = 0;
  const timed = (step: () => boolean): boolean => {
    const sliceStarted = performance.now();
    const done = step();
    slices += 1;
    longestSliceMs = Math.max(longestSliceMs, performance.now() - sliceStarted);
    return done;
  };
  if (mode === "one-go") {
    timed(() => (applier.installSnapshot(snapshot), true));
  } else {
    const installer = applier.beginInstall(snapshot);
    while (!timed(() => installer.step())) {
      await turn();
    }
  }
  const ms = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 20)); // let the histogram sample the last stall
  histogram.disable();
  if (applier.applied !== snapshot.metadata.index) {
    throw new Error(`install ended at applied ${applier.applied}, expected ${snapshot.metadata.index}`);
  }
  const round = (value: number): number => Math.round(value * 10) / 10;
  return { mode, ms: round(ms), slices, longestSliceMs: round(longestSliceMs), loopDelayMaxMs: round(histogram.max / NS_PER_MS) };
}

const snapshot = await leaderSnapshot();
process.stdout.write(`${JSON.stringify({ keys, valueBytes, snapshotBytes: snapshot.data.length, sliceBytes: SLICE_BYTES })}\n`);
for (let i = 0; i < rounds; i++) {
  for (const mode of ["one-go", "sliced"] as const) {
    process.stdout.write(`${JSON.stringify({ round: i + 1, ...(await install(snapshot, mode)) })}\n`);
  }
}
