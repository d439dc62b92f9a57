// Operating errors of the durable storage (WAL and snapshot store).

import { CodedError } from "../../../lib/coded-error.js";

export type StorageErrorCode =
  /** A WAL record is damaged where a crash cannot explain it (valid data follows, or not the last segment). */
  | "CORRUPT_WAL"
  /** An earlier write or fsync failed: the log's on-disk state is unknown, so it refuses further use. */
  | "WAL_FAILED"
  /** The log was used after close(). */
  | "WAL_CLOSED"
  /** Saving a snapshot failed (the previous snapshots are untouched). */
  | "SNAPSHOT_SAVE_FAILED";

export class StorageError extends CodedError<StorageErrorCode> {
  override readonly name = "StorageError";
}
