import { describe, expect, it } from "vitest";
import { RecordingLogger } from "../../../lib/testing/recording-logger.js";
import type { FileSystem, WritableFile } from "./files.js";
import { WalIoQueue } from "./wal-io-queue.js";

/** A file that records what reached it and when each fdatasync ran; its fsyncs can be held. */
class HeldFile implements WritableFile {
  readonly events: string[] = [];
  readonly #held: Array<() => void> = [];
  holdSyncs = false;
  failNextSync = false;
  failNextWrite = false;
  written = "";

  async write(buffer: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }> {
    if (this.failNextWrite) {
      this.failNextWrite = false;
      throw new Error("ENOSPC");
    }
    const text = Buffer.from(buffer.subarray(offset, offset + length)).toString();
    this.written += text;
    this.events.push(`write ${text}`);
    return { bytesWritten: length };
  }
  async writev(): Promise<{ bytesWritten: number }> {
    throw new Error("not used by the WAL queue");
  }
  async datasync(): Promise<void> {
    this.events.push(`fdatasync covering "${this.written}"`);
    if (this.failNextSync) {
      this.failNextSync = false;
      throw new Error("EIO");
    }
    if (this.holdSyncs) {
      await new Promise<void>((resolve) => this.#held.push(resolve));
    }
  }
  async sync(): Promise<void> {
    await this.datasync();
  }
  async close(): Promise<void> {
    this.events.push("close");
  }
  release(): void {
    this.holdSyncs = false;
    for (const resolve of this.#held.splice(0)) {
      resolve();
    }
  }
}

/** A HeldFile opened with O_DSYNC: each write is durable when it completes. */
class DurableWritesHeldFile extends HeldFile {
  readonly durableWrites = true;
}

function queueOn(file: HeldFile): WalIoQueue {
  const files: FileSystem = { name: "direct", open: async () => file };
  return new WalIoQueue({ walDirectory: "/wal", logger: new RecordingLogger(), files, failpoints: undefined, handle: file, position: 0 });
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("WalIoQueue group commit", () => {
  // The pipeline sends a Ready's appends right after queueing its write: the write must already be
  // in the thread pool by then, or the leader's own disk round starts behind the followers' (perf
  // trace at put concurrency 16: 0.25 ms later).
  it("hands a write to an idle file in the caller's turn when no failpoint is armed", async () => {
    const file = new DurableWritesHeldFile();
    const queue = queueOn(file);
    const written = queue.write(Buffer.from("a"));
    expect(file.events).toEqual(["write a"]); // before any await
    await written;
  });

  it("fsyncs queued behind a running fdatasync share the next one, and each covers every write queued before it", async () => {
    const file = new HeldFile();
    const queue = queueOn(file);
    const order: string[] = [];
    file.holdSyncs = true;
    void queue.write(Buffer.from("a")).then(() => order.push("write a"));
    void queue.sync().then(() => order.push("sync 1"));
    await settle(); // the first fdatasync is running (held)
    for (const [text, sync] of [
      ["b", "sync 2"],
      ["c", "sync 3"],
      ["d", "sync 4"],
    ] as const) {
      void queue.write(Buffer.from(text)).then(() => order.push(`write ${text}`));
      void queue.sync().then(() => order.push(sync));
    }
    await settle();
    expect(order).toEqual(["write a"]); // nothing is durable yet
    file.release();
    await queue.close();
    expect(file.events).toEqual(["write a", 'fdatasync covering "a"', "write bcd", 'fdatasync covering "abcd"', "close"]);
    expect(queue.syncRounds).toBe(2);
    expect(order).toEqual(["write a", "sync 1", "write b", "write c", "write d", "sync 2", "sync 3", "sync 4"]);
  });

  it("a write at the head takes the writes and fsyncs queued behind it along: one write call, one fdatasync", async () => {
    const file = new HeldFile();
    const queue = queueOn(file);
    let finishRun = (): void => {};
    void queue.run(() => new Promise<void>((resolve) => (finishRun = resolve)));
    const order: string[] = [];
    for (const text of ["a", "b", "c"]) {
      void queue.write(Buffer.from(text)).then(() => order.push(`write ${text}`));
      void queue.sync().then(() => order.push(`sync ${text}`));
    }
    finishRun();
    await queue.close();
    expect(file.events).toEqual(["write abc", 'fdatasync covering "abc"', "close"]);
    expect(queue.syncRounds).toBe(1);
    expect(order).toEqual(["write a", "write b", "write c", "sync a", "sync b", "sync c"]);
  });

  it("on a file with durable writes (O_DSYNC) the group's write is its disk round: no fdatasync, and its fsyncs resolve after it", async () => {
    const file = new DurableWritesHeldFile();
    const queue = queueOn(file);
    let finishRun = (): void => {};
    void queue.run(() => new Promise<void>((resolve) => (finishRun = resolve)));
    const order: string[] = [];
    for (const text of ["a", "b"]) {
      void queue.write(Buffer.from(text)).then(() => order.push(`write ${text}`));
      void queue.sync().then(() => order.push(`sync ${text}`));
    }
    finishRun();
    await queue.close();
    expect(file.events).toEqual(["write ab", "close"]);
    expect(queue.syncRounds).toBe(1);
    expect(order).toEqual(["write a", "write b", "sync a", "sync b"]);
  });

  it("a failed write fails every write and fsync of its group and everything after it", async () => {
    const file = new HeldFile();
    const queue = queueOn(file);
    let finishRun = (): void => {};
    void queue.run(() => new Promise<void>((resolve) => (finishRun = resolve)));
    const group = [queue.write(Buffer.from("a")), queue.sync(), queue.write(Buffer.from("b")), queue.sync()];
    file.failNextWrite = true;
    finishRun();
    const results = await Promise.allSettled(group);
    expect(results.map((result) => result.status)).toEqual(["rejected", "rejected", "rejected", "rejected"]);
    await expect(queue.sync()).rejects.toThrow(/an earlier write or fsync failed/);
    expect(file.written).toBe("");
    expect(file.events).not.toContain('fdatasync covering ""');
  });

  it("an operation other than a write or an fsync ends a group: what follows it waits for it", async () => {
    const file = new HeldFile();
    const queue = queueOn(file);
    file.holdSyncs = true;
    void queue.write(Buffer.from("a"));
    void queue.sync();
    await settle();
    void queue.write(Buffer.from("b"));
    void queue.sync();
    void queue.run(async () => {
      file.events.push("unlink");
    });
    void queue.write(Buffer.from("c"));
    void queue.sync();
    file.release();
    await queue.close();
    expect(file.events).toEqual([
      "write a",
      'fdatasync covering "a"',
      "write b",
      'fdatasync covering "ab"',
      "unlink",
      "write c",
      'fdatasync covering "abc"',
      "close",
    ]);
  });

  it("a failed fdatasync fails every fsync of its group and everything after it", async () => {
    const file = new HeldFile();
    const queue = queueOn(file);
    file.holdSyncs = true;
    void queue.write(Buffer.from("a"));
    const first = queue.sync();
    await settle();
    const joined = [queue.write(Buffer.from("b")), queue.sync(), queue.sync()];
    file.failNextSync = true;
    file.release();
    await first;
    const results = await Promise.allSettled(joined);
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "rejected"]);
    await expect(queue.write(Buffer.from("c"))).rejects.toThrow(/an earlier write or fsync failed/);
    expect(queue.failure()?.code).toBe("WAL_FAILED");
    expect(file.written).toBe("ab");
  });
});
