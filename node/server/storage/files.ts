// How the node's storage opens files for writing. `directFiles` is the operating system's file
// system. `powerLossFiles` is a test-only mode (`raftlab node --simulate-power-loss`) standing in
// for LazyFS, which needs FUSE: file data written but not yet fsynced stays in this process's
// memory, as it would sit in the page cache, and reaches the file only on sync/datasync. A kill -9
// then loses exactly the unsynced writes, as a power cut loses the page cache. Metadata operations
// (create, rename, unlink, directory sync) happen at once, as on a journalling file system.
//
// The WAL asks for durable writes (O_DSYNC): each write returns once its data is on disk, as a
// write followed by fdatasync, but in one trip through libuv's thread pool instead of two (a
// one-entry durable append: `npx tsx bench/storage.ts`). The power-loss mode keeps buffering:
// there durability comes only from sync.
import { constants } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";

/** The part of a FileHandle the WAL and the snapshot store use. */
export interface WritableFile {
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  /** Writes at the file's own position, which advances (as FileHandle.writev without a position). */
  writev(buffers: Uint8Array[]): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
  /** Every completed write is already durable (opened with O_DSYNC): datasync() has nothing to do. */
  readonly durableWrites?: boolean;
}

export type WriteFlags = "wx" | "r+" | "w";

export interface OpenOptions {
  /** Ask for writes that are durable once they complete (O_DSYNC); see WritableFile.durableWrites for what was granted. */
  durableWrites?: boolean;
}

export interface FileSystem {
  readonly name: "direct" | "power-loss";
  open(path: string, flags: WriteFlags, options?: OpenOptions): Promise<WritableFile>;
}

/** The numeric form of each WriteFlags, for opening with O_DSYNC added. */
const NUMERIC_FLAGS: Record<WriteFlags, number> = {
  wx: constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
  "r+": constants.O_RDWR,
  w: constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC,
};

export const directFiles: FileSystem = {
  name: "direct",
  open: async (path: string, flags: WriteFlags, options?: OpenOptions): Promise<WritableFile> => {
    if (options?.durableWrites === true) {
      try {
        return new DurableWritesFile(await open(path, NUMERIC_FLAGS[flags] | constants.O_DSYNC, 0o666));
      } catch (error) {
        // A file system that refuses O_DSYNC gets plain writes, which sync() then makes durable.
        if ((error as NodeJS.ErrnoException).code !== "EINVAL") {
          throw error;
        }
      }
    }
    return open(path, flags);
  },
};

/** Writes are never durable before sync here, so the option is not granted. */
export const powerLossFiles: FileSystem = {
  name: "power-loss",
  open: async (path: string, flags: WriteFlags): Promise<WritableFile> => new SyncBufferedFile(await open(path, flags)),
};

/** A file opened with O_DSYNC, which says so. */
class DurableWritesFile implements WritableFile {
  readonly durableWrites = true;
  readonly #handle: FileHandle;

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    return this.#handle.write(buffer, offset, length, position);
  }

  writev(buffers: Uint8Array[]): Promise<{ bytesWritten: number }> {
    return this.#handle.writev(buffers);
  }

  datasync(): Promise<void> {
    return this.#handle.datasync();
  }

  sync(): Promise<void> {
    return this.#handle.sync();
  }

  close(): Promise<void> {
    return this.#handle.close();
  }
}

interface PendingWrite {
  position: number;
  bytes: Uint8Array;
}

/** Keeps writes in memory until a sync; see the file header. */
class SyncBufferedFile implements WritableFile {
  readonly #handle: FileHandle;
  #pending: PendingWrite[] = [];
  /** writev's position (files opened "w" or "wx" start empty). */
  #position = 0;

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  async write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    // A copy: the caller may reuse its buffer once the write "completed".
    this.#pending.push({ position, bytes: buffer.slice(offset, offset + length) });
    return { bytesWritten: length };
  }

  async writev(buffers: Uint8Array[]): Promise<{ bytesWritten: number }> {
    let bytesWritten = 0;
    for (const buffer of buffers) {
      this.#pending.push({ position: this.#position + bytesWritten, bytes: buffer.slice() });
      bytesWritten += buffer.length;
    }
    this.#position += bytesWritten;
    return { bytesWritten };
  }

  async datasync(): Promise<void> {
    await this.#flush();
    await this.#handle.datasync();
  }

  async sync(): Promise<void> {
    await this.#flush();
    await this.#handle.sync();
  }

  /** A graceful close is no power cut: the data reaches the file (unsynced, as after a close). */
  async close(): Promise<void> {
    await this.#flush();
    await this.#handle.close();
  }

  async #flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    for (const { position, bytes } of pending) {
      let written = 0;
      while (written < bytes.length) {
        const result = await this.#handle.write(bytes, written, bytes.length - written, position + written);
        written += result.bytesWritten;
      }
    }
  }
}
