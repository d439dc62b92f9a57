// The WAL's I/O queue: every write, fsync, segment switch and unlink runs here in call order on the
// current segment's handle. After any I/O failure the queue is poisoned and every later operation fails.
import type { Logger } from "../../../lib/logger.js";
import type { Failpoints } from "../failpoints.js";
import type { FileSystem, WritableFile } from "./files.js";
import { StorageError } from "./storage-error.js";
import { syncDirectory } from "./wal-segment.js";

export function walFailed(directory: string, cause: unknown): StorageError {
  return new StorageError("WAL_FAILED", `${directory}: an earlier write or fsync failed (${String(cause)})`, { cause });
}

export class WalIoQueue {
  readonly #walDirectory: string;
  readonly #logger: Logger;
  readonly #files: FileSystem;
  readonly #failpoints: Failpoints | undefined;
  #handle: WritableFile;
  #position: number;
  #tail: Promise<void> = Promise.resolve();
  #failure: unknown;

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
    return this.run(() => this.#writeAll(buffer));
  }

  /** Queues one fdatasync of the current segment. */
  sync(): Promise<void> {
    return this.run(async () => {
      await this.#failpoints?.hit("beforeFsync");
      await this.#handle.datasync();
      await this.#failpoints?.hit("afterFsync");
    });
  }

  /** Queues closing the current segment (durably) and starting `segmentPath` with `headerBuffer`. */
  startSegment(segmentPath: string, headerBuffer: Buffer): Promise<void> {
    return this.run(async () => {
      // The old segment must be durable before records land in the new one.
      await this.#handle.datasync();
      await this.#handle.close();
      this.#handle = await this.#files.open(segmentPath, "wx");
      this.#position = 0;
      await syncDirectory(this.#walDirectory);
      await this.#writeAll(headerBuffer);
      this.#logger.info("wal: started segment", { path: segmentPath });
    });
  }

  /** Waits for queued operations, then closes the current segment. */
  async close(): Promise<void> {
    await this.#tail;
    await this.#handle.close();
  }

  /** Runs `operation` after all earlier ones; after any I/O failure every later one fails too. */
  run(operation: () => Promise<void>): Promise<void> {
    const result = this.#tail.then(async () => {
      if (this.#failure !== undefined) {
        throw walFailed(this.#walDirectory, this.#failure);
      }
      try {
        await operation();
      } catch (error) {
        // After a failed write or fsync the file's contents are unknown (fsync errors are not
        // retried: the kernel may have dropped the dirty pages). Stop here.
        this.#failure = error;
        this.#logger.error("wal: I/O failed; the log refuses further writes", { directory: this.#walDirectory, error: String(error) });
        throw walFailed(this.#walDirectory, error);
      }
    });
    this.#tail = result.catch(() => undefined);
    return result;
  }

  async #writeAll(buffer: Buffer): Promise<void> {
    await this.#failpoints?.hit("beforeWalWrite");
    let written = 0;
    while (written < buffer.length) {
      const { bytesWritten } = await this.#handle.write(buffer, written, buffer.length - written, this.#position);
      written += bytesWritten;
      this.#position += bytesWritten;
    }
    await this.#failpoints?.hit("afterWalWrite");
  }
}
