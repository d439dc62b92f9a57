// The WAL's I/O queue: every write, fsync, segment switch and unlink runs here in call order on the
// current segment's handle. After any I/O failure the queue is poisoned and every later operation fails.
//
// Group commit: when a write or an fsync reaches the head of the queue, the writes and fsyncs queued
// behind it (up to the next other operation) join it: their buffers go to the file in one write
// call, then one fdatasync answers every fsync of the group. Each fsync still covers every write
// queued before it, but a pipeline with several Readys in flight pays one write and one fdatasync
// per disk round instead of one of each per Ready (each is a trip through libuv's thread pool). On a
// segment opened with durable writes (O_DSYNC, node/server/storage/files.ts) the write itself is
// the disk round: the fsyncs of its group need no fdatasync call of their own.
import type { Logger } from "../../../lib/logger.js";
import type { Failpoints } from "../failpoints.js";
import type { FileSystem, WritableFile } from "./files.js";
import { StorageError } from "./storage-error.js";
import { syncDirectory } from "./wal-segment.js";

export function walFailed(directory: string, cause: unknown): StorageError {
  return new StorageError("WAL_FAILED", `${directory}: an earlier write or fsync failed (${String(cause)})`, { cause });
}

type Job = { kind: "write"; buffer: Buffer } | { kind: "sync" } | { kind: "run"; operation: () => Promise<void> };

interface QueuedJob {
  job: Job;
  resolve: () => void;
  reject: (error: unknown) => void;
}

// Failpoints are awaited only when armed: a disarmed one must not cost a microtask, so that a write
// reaches the thread pool within the caller's turn, before the Ready's messages go out, and a
// completed write or fsync answers without extra hops.
export class WalIoQueue {
  readonly #walDirectory: string;
  readonly #logger: Logger;
  readonly #files: FileSystem;
  readonly #failpoints: Failpoints | undefined;
  #handle: WritableFile;
  #position: number;
  readonly #queue: QueuedJob[] = [];
  #running = false;
  readonly #idleWaiters: Array<() => void> = [];
  #failure: unknown;
  /** Disk rounds that answered sync() calls: a group of fsyncs makes one (an fdatasync, or its O_DSYNC write). */
  syncRounds = 0;

  constructor(init: { walDirectory: string; logger: Logger; files: FileSystem; failpoints: Failpoints | undefined; handle: WritableFile; position: number }) {
    this.#walDirectory = init.walDirectory;
    this.#logger = init.logger;
    this.#files = init.files;
    this.#failpoints = init.failpoints;
    this.#handle = init.handle;
    this.#position = init.position;
  }

  /** The error to report for an earlier I/O failure, or undefined while none has happened. */
  failure(): StorageError | undefined {
    return this.#failure === undefined ? undefined : walFailed(this.#walDirectory, this.#failure);
  }

  /** Queues writing all of `buffer` at the end of the current segment. */
  write(buffer: Buffer): Promise<void> {
    return this.#enqueue({ kind: "write", buffer });
  }

  /** Queues an fsync: it resolves once everything queued before it is durable. */
  sync(): Promise<void> {
    return this.#enqueue({ kind: "sync" });
  }

  /** Queues closing the current segment (durably) and starting `segmentPath` with `headerBuffer`. */
  startSegment(segmentPath: string, headerBuffer: Buffer): Promise<void> {
    return this.run(async () => {
      // The old segment must be durable before records land in the new one (an O_DSYNC one is).
      if (this.#handle.durableWrites !== true) {
        await this.#handle.datasync();
      }
      await this.#handle.close();
      this.#handle = await this.#files.open(segmentPath, "wx", { durableWrites: true });
      this.#position = 0;
      await syncDirectory(this.#walDirectory);
      await this.#writeAll(headerBuffer);
      this.#logger.info("wal: started segment", { path: segmentPath });
    });
  }

  /** Waits for queued operations, then closes the current segment. */
  async close(): Promise<void> {
    if (this.#running || this.#queue.length > 0) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
    await this.#handle.close();
  }

  /** Runs `operation` after all earlier ones; after any I/O failure every later one fails too. */
  run(operation: () => Promise<void>): Promise<void> {
    return this.#enqueue({ kind: "run", operation });
  }

  #enqueue(job: Job): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ job, resolve, reject });
      if (!this.#running) {
        this.#running = true;
        void this.#drain();
      }
    });
  }

  async #drain(): Promise<void> {
    for (let head = this.#queue.shift(); head !== undefined; head = this.#queue.shift()) {
      const group = [head];
      if (head.job.kind !== "run") {
        while (this.#queue[0] !== undefined && this.#queue[0].job.kind !== "run") {
          group.push(this.#queue.shift() as QueuedJob);
        }
      }
      await this.#runGroup(group);
    }
    this.#running = false;
    for (const waiter of this.#idleWaiters.splice(0)) {
      waiter();
    }
  }

  /** A lone other operation, or writes and fsyncs that go together: one write, then one fdatasync. */
  async #runGroup(group: QueuedJob[]): Promise<void> {
    if (this.#failure !== undefined) {
      const error = walFailed(this.#walDirectory, this.#failure);
      for (const queued of group) {
        queued.reject(error);
      }
      return;
    }
    let written = false;
    try {
      const only = group[0] as QueuedJob;
      if (only.job.kind === "run") {
        await only.job.operation();
        only.resolve();
        return;
      }
      const writes: QueuedJob[] = [];
      const buffers: Buffer[] = [];
      const syncs: QueuedJob[] = [];
      for (const queued of group) {
        if (queued.job.kind === "write") {
          writes.push(queued);
          buffers.push(queued.job.buffer);
        } else {
          syncs.push(queued);
        }
      }
      if (buffers.length > 0) {
        await this.#writeAll(buffers.length === 1 ? (buffers[0] as Buffer) : Buffer.concat(buffers));
      }
      written = true;
      for (const queued of writes) {
        queued.resolve();
      }
      if (syncs.length > 0) {
        const beforeFsync = this.#failpoints?.hit("beforeFsync");
        if (beforeFsync !== undefined) {
          await beforeFsync;
        }
        if (this.#handle.durableWrites !== true) {
          await this.#handle.datasync();
        }
        this.syncRounds += 1;
        const afterFsync = this.#failpoints?.hit("afterFsync");
        if (afterFsync !== undefined) {
          await afterFsync;
        }
        for (const queued of syncs) {
          queued.resolve();
        }
      }
    } catch (error) {
      // After a failed write or fsync the file's contents are unknown (fsync errors are not
      // retried: the kernel may have dropped the dirty pages). Stop here.
      this.#failure = error;
      this.#logger.error("wal: I/O failed; the log refuses further writes", { directory: this.#walDirectory, error: String(error) });
      // Every job not yet resolved fails: the fsyncs (none has had its fdatasync), and the writes
      // too unless the failure came after them.
      const failed = walFailed(this.#walDirectory, error);
      for (const queued of group) {
        if (!written || queued.job.kind === "sync") {
          queued.reject(failed);
        }
      }
    }
  }

  async #writeAll(buffer: Buffer): Promise<void> {
    const beforeWrite = this.#failpoints?.hit("beforeWalWrite");
    if (beforeWrite !== undefined) {
      await beforeWrite;
    }
    let written = 0;
    while (written < buffer.length) {
      const { bytesWritten } = await this.#handle.write(buffer, written, buffer.length - written, this.#position);
      written += bytesWritten;
      this.#position += bytesWritten;
    }
    const afterWrite = this.#failpoints?.hit("afterWalWrite");
    if (afterWrite !== undefined) {
      await afterWrite;
    }
  }
}
