// Storage figures: WAL group commit (one append + one fdatasync per batch of 64 entries, as the
// server does per Ready), single-entry durable appends with and without O_DSYNC (as at put
// concurrency 1), CRC-32C and frame encode/decode throughput. Prints measured numbers only.
// Usage: npx tsx bench/storage.ts [batches=500] [entryBytes=128]
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Entry } from "../node/raft/messages.js";
import { crc32c } from "../lib/crc32c.js";
import { FileLog } from "../node/server/storage/file-log.js";
import { directFiles, type FileSystem } from "../node/server/storage/files.js";
import { FRAME_HEADER_BYTES, FrameDecoder, sealFrame } from "../node/server/transport/frame-codec.js";
import { decodeMessage, encodeMessage } from "../node/server/transport/message-codec.js";

const BATCH_ENTRIES = 64;
const batches = Number(process.argv[2] ?? 500);
const entryBytes = Number(process.argv[3] ?? 128);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

async function benchWal(): Promise<void> {
  const directory = await mkdtemp(path.join(os.tmpdir(), "raftlab-bench-wal-"));
  try {
    const log = await FileLog.open(directory);
    const data = Buffer.alloc(entryBytes, 7);
    const latenciesMs: number[] = [];
    let index = 1;
    const started = performance.now();
    for (let batch = 0; batch < batches; batch++) {
      const entries: Entry[] = [];
      for (let k = 0; k < BATCH_ENTRIES; k++) {
        entries.push({ term: 1, index: index++, type: "normal", data });
      }
      const t0 = performance.now();
      await log.append(entries, { term: 1, vote: 1, commit: index - 1 });
      await log.sync();
      latenciesMs.push(performance.now() - t0);
    }
    const seconds = (performance.now() - started) / 1000;
    await log.close();
    latenciesMs.sort((a, b) => a - b);
    const entriesWritten = batches * BATCH_ENTRIES;
    console.log(
      `wal: ${batches} batches x ${BATCH_ENTRIES} entries x ${entryBytes} B in ${seconds.toFixed(2)} s: ` +
        `${Math.round(entriesWritten / seconds)} entries/s, ${Math.round(batches / seconds)} fsyncs/s, ` +
        `append+sync p50 ${percentile(latenciesMs, 50).toFixed(2)} ms, p99 ${percentile(latenciesMs, 99).toFixed(2)} ms`,
    );
    const t0 = performance.now();
    const reopened = await FileLog.open(directory);
    console.log(`wal: recovery of ${reopened.recovery.entries.length} entries took ${(performance.now() - t0).toFixed(0)} ms`);
    await reopened.close();
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** Direct files that ignore the request for durable writes: each sync is a separate fdatasync. */
const writeThenFdatasync: FileSystem = { name: "direct", open: (file, flags) => directFiles.open(file, flags) };

/** One-entry append + sync, alternating O_DSYNC segments and write + fdatasync, in rounds. */
async function benchSingleEntrySync(): Promise<void> {
  const appendsPerRound = Math.max(200, batches * 2);
  const rounds = 5;
  const medians: Record<"dsync" | "fdatasync", number[]> = { dsync: [], fdatasync: [] };
  for (let round = 0; round < rounds; round++) {
    for (const [mode, files] of [
      ["dsync", directFiles],
      ["fdatasync", writeThenFdatasync],
    ] as const) {
      const directory = await mkdtemp(path.join(os.tmpdir(), "raftlab-bench-wal-"));
      try {
        const log = await FileLog.open(directory, { files });
        const data = Buffer.alloc(entryBytes, 7);
        const latenciesMs: number[] = [];
        for (let index = 1; index <= appendsPerRound; index++) {
          const t0 = performance.now();
          await log.append([{ term: 1, index, type: "normal", data }], { term: 1, vote: 1, commit: index - 1 });
          await log.sync();
          latenciesMs.push(performance.now() - t0);
        }
        await log.close();
        latenciesMs.sort((a, b) => a - b);
        medians[mode].push(percentile(latenciesMs, 50) * 1000);
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    }
  }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  const ratios = medians.dsync.map((dsync, round) => dsync / (medians.fdatasync[round] ?? Number.NaN));
  console.log(
    `wal: one-entry append+sync p50, median of ${rounds} rounds x ${appendsPerRound}: O_DSYNC ${median(medians.dsync).toFixed(0)} µs, ` +
      `write+fdatasync ${median(medians.fdatasync).toFixed(0)} µs (median ratio ${median(ratios).toFixed(3)})`,
  );
}

function benchCrc(): void {
  const buffer = Buffer.alloc(64 * 1024 * 1024, 0xa5);
  const t0 = performance.now();
  const checksum = crc32c(buffer);
  const seconds = (performance.now() - t0) / 1000;
  console.log(`crc32c: ${(buffer.length / 1024 / 1024 / seconds).toFixed(0)} MiB/s over 64 MiB (0x${checksum.toString(16)})`);
}

function benchMessages(): void {
  const message = {
    type: "app" as const,
    from: 1,
    to: 2,
    term: 5,
    logTerm: 5,
    index: 100,
    commit: 99,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    context: new Uint8Array(),
    entries: Array.from({ length: 16 }, (_, k) => ({ term: 5, index: 101 + k, type: "normal" as const, data: Buffer.alloc(entryBytes, 1) })),
  };
  const count = 20_000;
  for (let i = 0; i < count; i++) {
    decodeMessage(encodeMessage(message), "warm-up"); // let the JIT settle before timing
  }
  const frames: Buffer[] = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    frames.push(sealFrame(encodeMessage(message, FRAME_HEADER_BYTES)));
  }
  const encodeSeconds = (performance.now() - t0) / 1000;
  const stream = Buffer.concat(frames);
  const decoder = new FrameDecoder();
  const t1 = performance.now();
  let decoded = 0;
  for (let offset = 0; offset < stream.length; offset += 65_536) {
    for (const frame of decoder.push(stream.subarray(offset, offset + 65_536))) {
      decodeMessage(frame, "bench");
      decoded++;
    }
  }
  const decodeSeconds = (performance.now() - t1) / 1000;
  console.log(
    `messages (16 entries x ${entryBytes} B, ${frames[0]!.length} B framed): encode ${Math.round(count / encodeSeconds)}/s, ` +
      `decode ${Math.round(decoded / decodeSeconds)}/s (${(stream.length / 1024 / 1024 / decodeSeconds).toFixed(0)} MiB/s)`,
  );
}

benchCrc();
benchMessages();
await benchWal();
await benchSingleEntrySync();
