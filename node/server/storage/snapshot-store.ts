// Snapshot files: <data>/snap/<16-digit index>-<term>.snap, written to a temp file, fsynced, renamed
// into place and the directory fsynced, so a crash leaves either the old set or the new file whole.
// Layout: "RLSNAP01" | u32 crc32c of the rest | metadata | float64 data length | data.
import { mkdir, readdir, readFile, rename, unlink } from "node:fs/promises";
import path from "node:path";
import type { Snapshot } from "../../raft/messages.js";
import { ByteReader, ByteWriter } from "../../../lib/binary-cursor.js";
import { setImmediate } from "node:timers/promises";
import { crc32c } from "../../../lib/crc32c.js";
import { readSnapshotMetadata, snapshotMetadataEncodedBytes, writeSnapshotMetadata } from "../transport/message-codec.js";
import { StorageError } from "./storage-error.js";
import { silentLogger, type Logger } from "../../../lib/logger.js";
import { syncDirectory } from "./wal-segment.js";
import { directFiles, type FileSystem, type WritableFile } from "./files.js";
import type { Failpoints } from "../failpoints.js";

const MAGIC = Buffer.from("RLSNAP01", "ascii");
const CHECKSUM_BYTES = 4;
const SNAPSHOT_NAME = /^(\d{16})-(\d+)\.snap$/;
const TEMP_SUFFIX = ".tmp";

export interface SnapshotStoreOptions {
  logger?: Logger;
  /** Snapshots kept after a successful save, newest first (the previous one is a fallback). */
  keep?: number;
  /** How snapshot files are opened for writing (default: directly; powerLossFiles under test). */
  files?: FileSystem;
  /** beforeSnapshotSave and afterSnapshotSave are hit here when armed. */
  failpoints?: Failpoints;
}

export function snapshotFileName(index: number, term: number): string {
  return `${String(index).padStart(16, "0")}-${term}.snap`;
}

interface SnapshotFile {
  index: number;
  term: number;
  name: string;
}

export class SnapshotStore {
  readonly directory: string;
  readonly #dataDirectory: string;
  readonly #logger: Logger;
  readonly #keep: number;
  readonly #files: FileSystem;
  readonly #failpoints: Failpoints | undefined;
  /** Saves run one at a time so pruning never races a rename. */
  #saveTail: Promise<unknown> = Promise.resolve();

  constructor(dataDirectory: string, options: SnapshotStoreOptions = {}) {
    this.#dataDirectory = dataDirectory;
    this.directory = path.join(dataDirectory, "snap");
    this.#logger = options.logger ?? silentLogger;
    this.#keep = options.keep ?? 2;
    this.#files = options.files ?? directFiles;
    this.#failpoints = options.failpoints;
    if (!(Number.isSafeInteger(this.#keep) && this.#keep >= 1)) {
      throw new RangeError(`SnapshotStore: keep must be a positive integer, got ${this.#keep}`);
    }
  }

  /** Durably writes `snapshot`, then prunes all but the newest `keep`. Returns the file's path. */
  save(snapshot: Snapshot): Promise<string> {
    const result = this.#saveTail.then(() => this.#save(snapshot));
    this.#saveTail = result.catch(() => undefined);
    return result;
  }

  /** The newest snapshot that reads back intact, skipping (with a warning) damaged or unfinished files. */
  async loadLatest(): Promise<Snapshot | undefined> {
    for (const file of await this.#list()) {
      const filePath = path.join(this.directory, file.name);
      try {
        const snapshot = decodeSnapshotFile(await readFile(filePath), filePath);
        if (snapshot.metadata.index !== file.index || snapshot.metadata.term !== file.term) {
          throw new Error(`holds index ${snapshot.metadata.index} term ${snapshot.metadata.term}, not what its name says`);
        }
        return snapshot;
      } catch (error) {
        if (!(error instanceof Error)) {
          throw error;
        }
        this.#logger.warn("snapshot: skipping an unreadable snapshot file", { path: filePath, reason: error.message });
      }
    }
    return undefined;
  }

  async #save(snapshot: Snapshot): Promise<string> {
    const { index, term } = snapshot.metadata;
    const finalPath = path.join(this.directory, snapshotFileName(index, term));
    const tempPath = finalPath + TEMP_SUFFIX;
    try {
      if ((await mkdir(this.directory, { recursive: true })) !== undefined) {
        await syncDirectory(this.#dataDirectory);
      }
      await this.#failpoints?.hit("beforeSnapshotSave");
      const header = await encodeSnapshotHeader(snapshot);
      let handle: WritableFile | undefined = await this.#files.open(tempPath, "w");
      try {
        await writeAll(handle, [header, snapshot.data]);
        await handle.sync();
        await handle.close();
        handle = undefined;
      } finally {
        await handle?.close();
      }
      await rename(tempPath, finalPath);
      await syncDirectory(this.directory);
      await this.#failpoints?.hit("afterSnapshotSave");
    } catch (error) {
      await unlink(tempPath).catch(() => undefined);
      throw new StorageError("SNAPSHOT_SAVE_FAILED", `${finalPath}: ${String(error)}`, { cause: error });
    }
    this.#logger.info("snapshot: saved", { path: finalPath, index, term, dataBytes: snapshot.data.length });
    await this.#prune();
    return finalPath;
  }

  /** Deletes all but the newest `keep` snapshots, and temp files left by crashed saves. */
  async #prune(): Promise<void> {
    const names = await readdir(this.directory);
    const doomed = [...(await this.#list()).slice(this.#keep).map((file) => file.name), ...names.filter((name) => name.endsWith(TEMP_SUFFIX))];
    for (const name of doomed) {
      await unlink(path.join(this.directory, name)).catch((error: unknown) => {
        this.#logger.warn("snapshot: could not delete an old snapshot file", { path: path.join(this.directory, name), error: String(error) });
      });
    }
    if (doomed.length > 0) {
      await syncDirectory(this.directory);
    }
  }

  /** Snapshot files, newest (highest index, then term) first; warns about leftover temp files. */
  async #list(): Promise<SnapshotFile[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        return [];
      }
      throw error;
    }
    const files: SnapshotFile[] = [];
    for (const name of names) {
      const match = SNAPSHOT_NAME.exec(name);
      if (match !== null) {
        files.push({ index: Number(match[1]), term: Number(match[2]), name });
      } else if (name.endsWith(TEMP_SUFFIX)) {
        this.#logger.warn("snapshot: ignoring an unfinished snapshot (temp file of a crashed save)", { path: path.join(this.directory, name) });
      }
    }
    return files.sort((a, b) => b.index - a.index || b.term - a.term);
  }
}

/** Bytes checksummed per turn of the event loop: a 20 MB snapshot's CRC would otherwise block it in one go. */
const CHECKSUM_SLICE_BYTES = 1 << 20;

/** Magic, checksum and metadata; the data follows. The checksum covers metadata, length and data. */
async function encodeSnapshotHeader(snapshot: Snapshot): Promise<Buffer> {
  const w = ByteWriter.allocate(MAGIC.length + CHECKSUM_BYTES + snapshotMetadataEncodedBytes(snapshot.metadata) + 8);
  w.raw(MAGIC);
  w.u32(0);
  writeSnapshotMetadata(w, snapshot.metadata);
  w.uint(snapshot.data.length);
  const header = w.finish();
  const bodyStart = MAGIC.length + CHECKSUM_BYTES;
  let checksum = crc32c(header, bodyStart);
  for (let start = 0; start < snapshot.data.length; start += CHECKSUM_SLICE_BYTES) {
    if (start > 0) {
      await setImmediate();
    }
    checksum = crc32c(snapshot.data, start, Math.min(snapshot.data.length, start + CHECKSUM_SLICE_BYTES), checksum);
  }
  header.writeUInt32BE(checksum, MAGIC.length);
  return header;
}

export function decodeSnapshotFile(bytes: Buffer, label: string): Snapshot {
  const r = new ByteReader(bytes, label);
  if (bytes.length < MAGIC.length + CHECKSUM_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    r.fail("BAD_VERSION", "magic", `not a raftlab snapshot file (expected ${MAGIC.toString("ascii")})`, 0);
  }
  const expected = bytes.readUInt32BE(MAGIC.length);
  const actual = crc32c(bytes, MAGIC.length + CHECKSUM_BYTES);
  if (actual !== expected) {
    r.fail("BAD_VALUE", "checksum", `crc32c of the contents is 0x${actual.toString(16)}, header says 0x${expected.toString(16)}`, MAGIC.length);
  }
  r.raw(MAGIC.length + CHECKSUM_BYTES);
  const metadata = readSnapshotMetadata(r, "metadata");
  const dataLength = r.uint("data.length");
  if (dataLength !== r.remaining) {
    r.fail("TRUNCATED", "data", `length ${dataLength} but ${r.remaining} bytes follow`);
  }
  const data = bytes.subarray(r.offset);
  return { metadata, data };
}

async function writeAll(handle: WritableFile, buffers: Uint8Array[]): Promise<void> {
  let pending = buffers.filter((buffer) => buffer.length > 0);
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending);
    let skip = bytesWritten;
    const rest: Uint8Array[] = [];
    for (const buffer of pending) {
      if (skip >= buffer.length) {
        skip -= buffer.length;
      } else {
        rest.push(buffer.subarray(skip));
        skip = 0;
      }
    }
    pending = rest;
  }
}
