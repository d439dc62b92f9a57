// The real ports of the Ready pipeline (node/driver): the WAL, the snapshot files, the TCP
// transport and the event loop. FileLog and SnapshotStore return promises; the pipeline takes
// callbacks, so each call here settles its promise into the callback (a rejection becomes the
// error, which stops the node).
import type { Entry, HardState, Message, Snapshot } from "../raft/messages.js";
import type { Clock, Done, LogStorage, PeerTransport, SnapshotPoint, SnapshotStorage } from "../driver/ports.js";
import type { FileLog } from "./storage/file-log.js";
import type { SnapshotStore } from "./storage/snapshot-store.js";

function settle(promise: Promise<unknown>, done: Done): void {
  promise.then(
    () => done(),
    (error: unknown) => done(error ?? new Error("storage operation failed without an error")),
  );
}

export class FileLogStorage implements LogStorage {
  constructor(readonly fileLog: FileLog) {}

  get lastIndex(): number {
    return this.fileLog.lastIndex;
  }

  get snapshotIndex(): number {
    return this.fileLog.snapshotIndex;
  }

  append(entries: readonly Entry[], hardState: HardState | undefined, done: Done): void {
    settle(this.fileLog.append(entries, hardState), done);
  }

  sync(done: Done): void {
    settle(this.fileLog.sync(), done);
  }

  markSnapshot(point: SnapshotPoint, done: Done): void {
    settle(this.fileLog.markSnapshot(point), done);
  }

  compact(index: number, done: Done): void {
    settle(this.fileLog.compact(index), done);
  }
}

export class FileSnapshotStorage implements SnapshotStorage {
  constructor(readonly store: SnapshotStore) {}

  save(snapshot: Snapshot, done: Done): void {
    settle(this.store.save(snapshot), done);
  }
}

export class TransportPort implements PeerTransport {
  constructor(readonly transport: Required<PeerTransport>) {}

  flush(): void {
    this.transport.flush();
  }

  send(messages: readonly Message[]): void {
    if (messages.length > 0) {
      this.transport.send(messages);
    }
  }
}

/** The event loop: setImmediate runs after the I/O callbacks already due, so inputs arriving together share one Ready. */
export const eventLoopClock: Clock = {
  nowMs: () => performance.now(),
  defer: (callback) => {
    setImmediate(callback);
  },
};
