// How the node's storage opens files for writing. `directFiles` is the operating system's file
// system. `powerLossFiles` is a test-only mode (`raftlab node --simulate-power-loss`) standing in
// for LazyFS, which needs FUSE: file data written but not yet fsynced stays in this process's
// memory, as it would sit in the page cache, and reaches the file only on sync/datasync. A kill -9
// then loses exactly the unsynced writes, as a power cut loses the page cache. Metadata operations
// (create, rename, unlink, directory sync) happen at once, as on a journalling file system.
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
}

export type WriteFlags = "wx" | "r+" | "w";

export interface FileSystem {
  readonly name: "direct" | "power-loss";
  open(path: string, flags: WriteFlags): Promise<WritableFile>;
}

export const directFiles: FileSystem = {
  name: "direct",
  open: async (path: string, flags: WriteFlags): Promise<WritableFile> => open(path, flags),
};

export const powerLossFiles: FileSystem = {
  name: "power-loss",
  open: async (path: string, flags: WriteFlags): Promise<WritableFile> => new SyncBufferedFile(await open(path, flags)),
};

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
