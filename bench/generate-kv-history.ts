// Seeded generator of large kv histories for the checker benchmark (issue 16's table): concurrent
// clients doing get and put on a real per-key register, each operation taking effect at one
// instant between its invoke and its completion, written values unique, some operations ending
// `info` (half of those take effect, at the same kind of instant). Optionally one fault that makes
// the history NOT linearizable, planted so that it is certain to be observable:
//
// - stale-read: one get, invoked after the write of its key's current value completed, returns
//   the previous value, whose write completed before that write was invoked;
// - lost-write: one put is acknowledged but never takes effect; its key's writes are held back
//   until a get invoked after the put completed has read the value from before it.
//
// Deterministic for given options. `tsx bench/generate-kv-history.ts --ops 10000 --keys 1
// --clients 10 --fault stale-read --seed 16 --out FILE` writes one history; bench/checker.ts uses
// `generatedHistoryFile` to generate its rows into a cache directory.
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { seededRandom } from "../lib/rng.js";

export type KvFault = "none" | "stale-read" | "lost-write";

export interface KvHistoryOptions {
  operationCount: number;
  keyCount: number;
  clientCount: number;
  fault: KvFault;
  seed: number;
  /** Probability that an operation completes `info`. Default 0.01. */
  infoProbability?: number;
}

/** Bump when the generated histories change, so cached files are regenerated. */
const generatorVersion = 1;
const timeStepNs = 1000;
const flushBytes = 1 << 20;

interface Call {
  process: number;
  f: "get" | "put";
  key: string;
  /** put: the unique value written. */
  written: string | null;
  invokeIndex: number;
  fate: "ok" | "info";
  /** info calls decide at invoke whether they ever take effect. */
  takesEffect: boolean;
  applied: boolean;
  /** get: the value read. */
  read: string | null;
  lost: boolean;
}

/** What the register of one key holds, and when the writes of its last two values ran. */
interface KeyState {
  value: string | null;
  /** Event indexes of the current value's write: invoke, and completion (Infinity until then or when info). */
  currentInvoke: number;
  currentCompletion: number;
  /** The value before, and its write's completion (Infinity when unknown, info or never completed). */
  previous: string | null;
  previousCompletion: number;
  hasPrevious: boolean;
  writesInFlight: number;
}

/** Calls `writeLine` with each event line (JSON, no newline), in order. */
export function generateKvHistory(options: KvHistoryOptions, writeLine: (line: string) => void): void {
  const random = seededRandom(options.seed);
  const infoProbability = options.infoProbability ?? 0.01;
  const keys = Array.from({ length: options.keyCount }, (_, index) => `k${index}`);
  const states = new Map<string, KeyState>(
    keys.map((key) => [
      key,
      { value: null, currentInvoke: -1, currentCompletion: -1, previous: null, previousCompletion: Infinity, hasPrevious: false, writesInFlight: 0 },
    ]),
  );
  const clients: (Call | null)[] = new Array<Call | null>(options.clientCount).fill(null);
  const processOfClient = clients.map((_, client) => client);
  let nextProcess = options.clientCount;
  let eventIndex = 0;
  let invoked = 0;
  let busy = 0;
  let uniqueValue = 0;
  // The fault is planted in the second half, so a checker must get through the first.
  const faultAfter = Math.floor(options.operationCount / 2);
  let faultPlanted = options.fault === "none";
  let faultObserved = options.fault === "none";
  let pinnedKey: string | null = null;
  let lostWriteCompletion = Infinity;
  const emit = (process: number, type: string, f: string, key: string, value: string | null): void => {
    const line = `{"index":${eventIndex},"time":${eventIndex * timeStepNs},"process":${process},"type":"${type}","f":"${f}","key":"${key}","value":${value === null ? "null" : `"${value}"`}}`;
    writeLine(line);
    eventIndex += 1;
  };

  while (invoked < options.operationCount || busy > 0) {
    const client = Math.floor(random() * options.clientCount);
    const call = clients[client] ?? null;
    if (call === null) {
      if (invoked >= options.operationCount) {
        continue;
      }
      const key = keys[Math.floor(random() * keys.length)] as string;
      let f: "get" | "put" = random() < 0.5 ? "get" : "put";
      if (key === pinnedKey) {
        f = "get";
      }
      const fate = random() < infoProbability ? "info" : "ok";
      const next: Call = {
        process: processOfClient[client] as number,
        f,
        key,
        written: f === "put" ? String((uniqueValue += 1)) : null,
        invokeIndex: eventIndex,
        fate,
        takesEffect: fate === "ok" || random() < 0.5,
        applied: false,
        read: null,
        lost: false,
      };
      const state = states.get(key) as KeyState;
      if (f === "put") {
        state.writesInFlight += 1;
        // A lost write needs the value before it settled: its write completed, no other in flight.
        if (
          !faultPlanted &&
          options.fault === "lost-write" &&
          invoked >= faultAfter &&
          fate === "ok" &&
          state.writesInFlight === 1 &&
          Number.isFinite(state.currentCompletion)
        ) {
          next.lost = true;
          faultPlanted = true;
          pinnedKey = key;
        }
      }
      clients[client] = next;
      emit(next.process, "invoke", f, key, next.written);
      invoked += 1;
      busy += 1;
      continue;
    }
    const state = states.get(call.key) as KeyState;
    // Each step either lets the call take effect or completes it.
    if (!call.applied && call.takesEffect) {
      call.applied = true;
      if (call.f === "get") {
        call.read = state.value;
        const staleReadPossible = state.hasPrevious && state.currentCompletion < call.invokeIndex && state.previousCompletion < state.currentInvoke;
        if (!faultPlanted && options.fault === "stale-read" && invoked >= faultAfter && call.fate === "ok" && staleReadPossible) {
          call.read = state.previous;
          faultPlanted = true;
          faultObserved = true;
        }
        if (call.key === pinnedKey && call.fate === "ok" && call.invokeIndex > lostWriteCompletion) {
          // It reads the value from before the lost write: the loss is now observable.
          pinnedKey = null;
          faultObserved = true;
        }
      } else if (!call.lost) {
        state.previous = state.value;
        state.previousCompletion = state.currentCompletion;
        state.hasPrevious = true;
        state.value = call.written;
        state.currentInvoke = call.invokeIndex;
        state.currentCompletion = Infinity;
      }
      continue;
    }
    if (call.f === "put") {
      state.writesInFlight -= 1;
      if (call.fate === "ok" && state.value === call.written) {
        state.currentCompletion = eventIndex;
      }
      if (call.lost) {
        lostWriteCompletion = eventIndex;
      }
    }
    if (call.fate === "ok") {
      emit(call.process, "ok", call.f, call.key, call.f === "get" ? call.read : null);
    } else {
      emit(call.process, "info", call.f, call.key, call.written);
      // After an info the client takes a new process id: the old operation may still be running.
      processOfClient[client] = nextProcess;
      nextProcess += 1;
    }
    clients[client] = null;
    busy -= 1;
  }
  if (!faultObserved) {
    throw new Error(`generateKvHistory: the ${options.fault} fault could not be planted observably; use more operations`);
  }
}

/**
 * The path of the history for `options` in `directory` (default: a raftlab cache directory under
 * the system's temp directory), generated first unless a previous run left it there.
 */
export function generatedHistoryFile(options: KvHistoryOptions, directory = join(tmpdir(), "raftlab-bench-checker")): string {
  const name = `kv-v${generatorVersion}-${options.operationCount}ops-${options.keyCount}keys-${options.clientCount}clients-${options.fault}-info${options.infoProbability ?? 0.01}-seed${options.seed}.jsonl`;
  const path = join(directory, name);
  if (!existsSync(path)) {
    mkdirSync(directory, { recursive: true });
    const partial = `${path}.${process.pid}.partial`;
    writeHistoryFile(options, partial);
    renameSync(partial, path);
  }
  return path;
}

function writeHistoryFile(options: KvHistoryOptions, path: string): void {
  const descriptor = openSync(path, "w");
  try {
    let buffer: string[] = [];
    let bufferedBytes = 0;
    const flush = (): void => {
      writeSync(descriptor, buffer.join(""));
      buffer = [];
      bufferedBytes = 0;
    };
    generateKvHistory(options, (line) => {
      buffer.push(line, "\n");
      bufferedBytes += line.length + 1;
      if (bufferedBytes >= flushBytes) {
        flush();
      }
    });
    flush();
  } finally {
    closeSync(descriptor);
  }
}

function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      ops: { type: "string", default: "10000" },
      keys: { type: "string", default: "1" },
      clients: { type: "string", default: "10" },
      fault: { type: "string", default: "none" },
      info: { type: "string", default: "0.01" },
      seed: { type: "string", default: "16" },
      out: { type: "string" },
    },
  });
  const fault = values.fault as KvFault;
  if (!["none", "stale-read", "lost-write"].includes(fault) || values.out === undefined) {
    process.stderr.write(
      "usage: generate-kv-history.ts --out FILE [--ops N] [--keys N] [--clients N] [--fault none|stale-read|lost-write] [--info P] [--seed N]\n",
    );
    return 254;
  }
  writeHistoryFile(
    {
      operationCount: Number(values.ops),
      keyCount: Number(values.keys),
      clientCount: Number(values.clients),
      fault,
      seed: Number(values.seed),
      infoProbability: Number(values.info),
    },
    values.out,
  );
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main(process.argv.slice(2));
}
