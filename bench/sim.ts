// npm run bench:sim [-- --json] [--nodes 3] [--entries 2000000] [--batch 4096]
// In-process Raft throughput: RawNodes wired directly (no simulator clock, no faults, persistence
// is a no-op), the leader takes big batches of 64-byte proposals, and we count entries committed
// and applied on every node per wall-clock second. Measures the core's hot path only.
import { performance } from "node:perf_hooks";
import { RawNode } from "../node/raft/raw-node.js";
import { SeededRng } from "../lib/rng.js";
import { nodeRaftLimits } from "../node/server/raft-limits.js";
import type { Message, NodeId } from "../node/raft/messages.js";

const COMPACT_EVERY = 100_000;
const SNAPSHOT_DATA = new Uint8Array(16);

interface BenchResult {
  nodes: number;
  entries: number;
  entry_bytes: number;
  batch: number;
  seconds: number;
  entries_per_s: number;
  messages: number;
  messages_per_s: number;
}

function parseArgs(argv: readonly string[]): { json: boolean; nodes: number[]; entries: number; batch: number } {
  const options = { json: false, nodes: [3, 5], entries: 2_000_000, batch: 4096 };
  for (let i = 0; i < argv.length; i++) {
    const value = Number(argv[i + 1]);
    switch (argv[i]) {
      case "--json":
        options.json = true;
        break;
      case "--nodes":
        options.nodes = [value];
        i++;
        break;
      case "--entries":
        options.entries = value;
        i++;
        break;
      case "--batch":
        options.batch = value;
        i++;
        break;
      default:
        throw new Error(`bench/sim: unknown argument ${JSON.stringify(argv[i])}; use --json --nodes N --entries N --batch N`);
    }
  }
  return options;
}

function run(nodeCount: number, total: number, batchSize: number): BenchResult {
  const ids: NodeId[] = Array.from({ length: nodeCount }, (_, i) => i + 1);
  const nodes = new Map<NodeId, RawNode>();
  for (const id of ids) {
    nodes.set(
      id,
      new RawNode(
        {
          id,
          electionTicks: 10,
          heartbeatTicks: 1,
          ...nodeRaftLimits,
          rng: new SeededRng(id),
        },
        { hardState: { term: 0, vote: 0, commit: 0 }, entries: [], confState: { voters: ids }, applied: 0 },
      ),
    );
  }
  const leader = nodes.get(1) as RawNode;
  let inbox: Message[] = [];
  let messages = 0;
  const applied = new Map<NodeId, number>(ids.map((id) => [id, 0]));
  const pump = (): void => {
    for (const [id, node] of nodes) {
      while (node.hasReady()) {
        const ready = node.ready();
        // Persisting is free here; send, apply (count), advance.
        for (const message of ready.messages) {
          inbox.push(message);
        }
        let count = 0;
        for (const entry of ready.committedEntries) {
          if (entry.data.length > 0) {
            count++;
          }
        }
        applied.set(id, (applied.get(id) ?? 0) + count);
        node.advance(ready);
        // Compact like a server does (it snapshots every N applied entries), so the retained log stays small.
        const status = node.raft.log;
        if (status.applied - status.snapshotIndex >= COMPACT_EVERY) {
          node.compact(status.applied, SNAPSHOT_DATA);
        }
      }
    }
    const delivering = inbox;
    inbox = [];
    messages += delivering.length;
    for (const message of delivering) {
      nodes.get(message.to)?.step(message);
    }
  };
  leader.campaign();
  for (let i = 0; i < 20 && leader.status().role !== "leader"; i++) {
    pump();
  }
  pump();
  pump();
  const payload = new Uint8Array(64).fill(0x61);
  const batch = new Array<Uint8Array>(batchSize).fill(payload);
  const started = performance.now();
  let proposed = 0;
  const minApplied = (): number => Math.min(...applied.values());
  while (minApplied() < total) {
    // Keep a few batches in flight, as a busy server would.
    if (proposed < total && proposed - (applied.get(1) ?? 0) < 4 * batchSize) {
      const size = Math.min(batchSize, total - proposed);
      leader.proposeBatch(size === batchSize ? batch : batch.slice(0, size));
      proposed += size;
    }
    pump();
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    nodes: nodeCount,
    entries: total,
    entry_bytes: payload.length,
    batch: batchSize,
    seconds: Number(seconds.toFixed(3)),
    entries_per_s: Math.round(total / seconds),
    messages,
    messages_per_s: Math.round(messages / seconds),
  };
}

const args = parseArgs(process.argv.slice(2));
for (const nodeCount of args.nodes) {
  const result = run(nodeCount, args.entries, args.batch);
  if (args.json) {
    console.log(JSON.stringify(result));
  } else {
    console.log(
      `${result.nodes} nodes: ${result.entries_per_s.toLocaleString("en-US")} entries/s committed and applied on every node ` +
        `(${result.entries} x ${result.entry_bytes} B in ${result.seconds}s, batches of ${result.batch}, ${result.messages} messages)`,
    );
  }
}
