// Memory implementations of the pipeline's storage ports, for the simulator and unit tests. They
// keep FileLog's contract (writes complete in call order, the synchronous view moves at call time,
// the same assertions) and model what a crash keeps: everything synced, plus a random prefix of
// the writes completed since the last sync, the last of which may be torn (a prefix of its entries,
// no hard state). When operations complete is up to a DiskScheduler, so a test can hold a write
// and a simulator can stall a disk for several election timeouts.
import { assert } from "../../lib/assert.js";
import type { Entry, HardState, Snapshot } from "../raft/messages.js";
import type { SeededRng as Rng } from "../../lib/rng.js";
import type { Done, LogStorage, SnapshotPoint, SnapshotStorage } from "./ports.js";

/** Decides when each storage operation completes. Operations of one queue complete in call order. */
export interface DiskScheduler {
  submit(queue: "log" | "snapshot", complete: () => void): void;
}

/** What the log holds on disk (or would, once synced). Entries follow the snapshot point contiguously. */
export interface LogImage {
  hardState: HardState | undefined;
  snapshot: SnapshotPoint;
  entries: Entry[];
}

type LogOp =
  | { kind: "append"; entries: readonly Entry[]; hardState: HardState | undefined }
  | { kind: "marker"; point: SnapshotPoint }
  | { kind: "sync" }
  | { kind: "compact" };

function copyImage(image: LogImage): LogImage {
  return { hardState: image.hardState, snapshot: { ...image.snapshot }, entries: image.entries.slice() };
}

function termIn(image: LogImage, index: number): number | undefined {
  if (index === image.snapshot.index) {
    return image.snapshot.term;
  }
  return image.entries[index - image.snapshot.index - 1]?.term;
}

/** Applies one write to an image, exactly as FileLog's recovery replays its records. */
function applyOp(image: LogImage, op: LogOp): void {
  if (op.kind === "append") {
    const first = op.entries[0];
    if (first !== undefined) {
      image.entries.length = Math.max(0, first.index - image.snapshot.index - 1);
      image.entries.push(...op.entries);
    }
    if (op.hardState !== undefined) {
      image.hardState = op.hardState;
    }
  } else if (op.kind === "marker") {
    const keepSuffix = termIn(image, op.point.index) === op.point.term;
    image.entries = keepSuffix ? image.entries.slice(op.point.index - image.snapshot.index) : [];
    image.snapshot = { ...op.point };
  }
}

export class MemoryLog implements LogStorage {
  /** What survives a crash for sure. */
  #durable: LogImage;
  /** The log as every call so far shapes it (the synchronous view). */
  readonly #called: LogImage;
  /** Writes completed since the last completed sync, in order: a crash keeps a prefix of them. */
  #unsynced: LogOp[] = [];
  /** Writes called and not completed, in order: each completion the scheduler reports finishes the oldest. */
  readonly #pending: { op: LogOp; done: Done }[] = [];
  /** Counts, for reports and tests. */
  readonly stats = { appends: 0, syncs: 0, markers: 0 };

  /** Called before durable entries are dropped (truncated, or replaced by a snapshot marker): a simulator checks none was committed. */
  onDurableDiscard: ((discarded: readonly Entry[], coveredUpTo: number) => void) | undefined;

  constructor(
    readonly scheduler: DiskScheduler,
    initial: LogImage = { hardState: undefined, snapshot: { index: 0, term: 0 }, entries: [] },
  ) {
    this.#durable = copyImage(initial);
    this.#called = copyImage(initial);
  }

  get lastIndex(): number {
    return this.#called.snapshot.index + this.#called.entries.length;
  }

  get snapshotIndex(): number {
    return this.#called.snapshot.index;
  }

  /** What is durable now (for invariants: an entry here survives any crash). */
  get durable(): Readonly<LogImage> {
    return this.#durable;
  }

  // FileLog's methods are async: a failed assertion rejects the call's promise, which the server's
  // port turns into done(error). These report it the same way, so the pipeline sees the same thing.

  append(entries: readonly Entry[], hardState: HardState | undefined, done: Done): void {
    this.#checked(done, () => {
      const first = entries[0];
      if (first !== undefined) {
        assert(first.index > this.snapshotIndex, `append: entry ${first.index} is at or below the snapshot index ${this.snapshotIndex}`);
        assert(first.index <= this.lastIndex + 1, `append: entry ${first.index} would leave a hole after last index ${this.lastIndex}`);
      }
      this.stats.appends += 1;
      this.#submit({ kind: "append", entries: entries.slice(), hardState }, done);
    });
  }

  sync(done: Done): void {
    this.stats.syncs += 1;
    this.#submit({ kind: "sync" }, done);
  }

  markSnapshot(point: SnapshotPoint, done: Done): void {
    this.#checked(done, () => {
      assert(point.index >= this.snapshotIndex, `markSnapshot: index ${point.index} is below the current snapshot ${this.snapshotIndex}`);
      this.stats.markers += 1;
      this.#submit({ kind: "marker", point: { ...point } }, done);
    });
  }

  compact(index: number, done: Done): void {
    this.#checked(done, () => {
      assert(index <= this.snapshotIndex, `compact(${index}) is past the latest snapshot marker ${this.snapshotIndex}`);
      this.#submit({ kind: "compact" }, done);
    });
  }

  #checked(done: Done, call: () => void): void {
    try {
      call();
    } catch (error) {
      done(error);
    }
  }

  #submit(op: LogOp, done: Done): void {
    applyOp(this.#called, op);
    this.#pending.push({ op, done });
    // The log performs its writes in call order whatever the scheduler does with its events.
    this.scheduler.submit("log", () => this.#completeOldest());
  }

  #completeOldest(): void {
    const next = this.#pending.shift();
    assert(next !== undefined, "memory-log: a completion without a pending operation");
    const { op, done } = next;
    if (op.kind === "sync") {
      for (const written of this.#unsynced) {
        this.#reportDiscard(written);
        applyOp(this.#durable, written);
      }
      this.#unsynced = [];
    } else if (op.kind !== "compact") {
      this.#unsynced.push(op);
    }
    done();
  }

  #reportDiscard(op: LogOp): void {
    const image = this.#durable;
    if (this.onDurableDiscard === undefined) {
      return;
    }
    if (op.kind === "append" && op.entries[0] !== undefined) {
      const position = Math.max(0, op.entries[0].index - image.snapshot.index - 1);
      if (position < image.entries.length) {
        this.onDurableDiscard(image.entries.slice(position), 0);
      }
    } else if (op.kind === "marker" && termIn(image, op.point.index) !== op.point.term) {
      this.onDurableDiscard(image.entries, op.point.index);
    }
  }

  /**
   * The image a crash leaves: the durable one plus a prefix of the writes completed since the last
   * sync; with `tear`, the last kept append loses its hard state and a suffix of its entries.
   */
  crashImage(rng: Rng, tear: boolean): LogImage {
    const image = copyImage(this.#durable);
    const kept = rng.int(this.#unsynced.length + 1);
    for (let k = 0; k < kept; k++) {
      const op = this.#unsynced[k]!;
      if (tear && k === kept - 1 && op.kind === "append") {
        applyOp(image, { kind: "append", entries: op.entries.slice(0, rng.int(op.entries.length + 1)), hardState: undefined });
      } else {
        applyOp(image, op);
      }
    }
    return image;
  }
}

/** Snapshot files: a save is durable when it completes; saves are independent of the log queue. */
export class MemorySnapshots implements SnapshotStorage {
  /** Saved snapshots by index (only completed saves). */
  readonly saved = new Map<number, Snapshot>();

  constructor(readonly scheduler: DiskScheduler) {}

  save(snapshot: Snapshot, done: Done): void {
    this.scheduler.submit("snapshot", () => {
      this.saved.set(snapshot.metadata.index, snapshot);
      done();
    });
  }

  latest(): Snapshot | undefined {
    let best: Snapshot | undefined;
    for (const snapshot of this.saved.values()) {
      if (best === undefined || snapshot.metadata.index > best.metadata.index) {
        best = snapshot;
      }
    }
    return best;
  }
}

/** A disk whose operations complete only when a test says so: the fixed schedules of unit tests. */
export class ManualDisk implements DiskScheduler {
  readonly queues = { log: [] as (() => void)[], snapshot: [] as (() => void)[] };

  submit(queue: "log" | "snapshot", complete: () => void): void {
    this.queues[queue].push(complete);
  }

  /** Completes the oldest operation of a queue; false when it is empty. */
  completeNext(queue: "log" | "snapshot"): boolean {
    const complete = this.queues[queue].shift();
    complete?.();
    return complete !== undefined;
  }

  /** Completes the operation at `position` of a queue (snapshot saves are independent files, so they may finish in any order). */
  completeAt(queue: "snapshot", position: number): void {
    const [complete] = this.queues[queue].splice(position, 1);
    assert(complete !== undefined, `manual-disk: no ${queue} operation at position ${position}`);
    complete();
  }

  /** Completes everything, including operations submitted meanwhile, snapshots first. */
  completeAll(): void {
    while (this.completeNext("snapshot") || this.completeNext("log")) {
      // keep going
    }
  }
}
