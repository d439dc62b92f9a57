// File descriptors for sockets, shared by the peer and client ports, so that connections can
// never take the descriptors the WAL and snapshots need: past the budget, new connections are
// refused at once (before EMFILE could fail an fsync'd write and stop the node).
import { readdirSync, readFileSync } from "node:fs";

/** Descriptors kept free for storage: WAL segments, snapshot temp files, directory fsyncs, plugin loads. */
export const STORAGE_FDS_RESERVED = 64;
/** Used when the limit cannot be read (no /proc): a common default soft limit. */
const FD_LIMIT_FALLBACK = 1024;

export class ConnectionBudget {
  /** Connections that may be open at once over both ports. */
  readonly capacity: number;
  /** Of the capacity, what only peers may take, so idle clients cannot lock the cluster's own nodes out. */
  readonly reservedForPeers: number;
  #open = 0;
  /** Refusals since start, for stats. */
  refused = 0;

  constructor(capacity: number, reservedForPeers = 0) {
    if (!(Number.isSafeInteger(capacity) && capacity >= 0)) {
      throw new RangeError(`ConnectionBudget: capacity must be a non-negative integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.reservedForPeers = Math.min(capacity, reservedForPeers);
  }

  /**
   * The budget of this process: its open-files soft limit, minus what is open now (listeners,
   * WAL, logs), minus STORAGE_FDS_RESERVED and two descriptors per peer link.
   */
  static forProcess(peerCount: number): ConnectionBudget {
    const limit = openFilesLimit() ?? FD_LIMIT_FALLBACK;
    const openNow = openDescriptors() ?? 32;
    // Peers hold one inbound connection each normally; twice that covers reconnections overlapping.
    return new ConnectionBudget(Math.max(0, limit - openNow - STORAGE_FDS_RESERVED - 2 * peerCount), 2 * peerCount + 8);
  }

  get open(): number {
    return this.#open;
  }

  /** Takes one descriptor's worth; false (count it as refused) when none is left for this kind. */
  tryAcquire(kind: "peer" | "client"): boolean {
    if (this.#open >= (kind === "peer" ? this.capacity : this.capacity - this.reservedForPeers)) {
      this.refused += 1;
      return false;
    }
    this.#open += 1;
    return true;
  }

  release(): void {
    if (this.#open <= 0) {
      throw new Error("invariant: ConnectionBudget released more than acquired");
    }
    this.#open -= 1;
  }
}

/** The soft "Max open files" limit from /proc/self/limits; undefined when unreadable or unlimited. */
function openFilesLimit(): number | undefined {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((text) => text.startsWith("Max open files"));
    const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
    const value = Number(soft);
    return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

function openDescriptors(): number | undefined {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return undefined;
  }
}
