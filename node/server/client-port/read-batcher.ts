// Linearizable reads with ReadIndex, batched and pipelined: the node calls flush() once per Ready
// cycle, and one readIndex request to the core (one heartbeat round) covers every read queued
// since the previous flush. A read index must be obtained after the read arrived, so a read never
// joins a batch already issued. Several batches may be in flight, so a read waits for one
// heartbeat round, not for the rounds of earlier batches. Once the core returns a batch's read
// state, its reads wait until the node has applied up to that index.

export interface WaitingRead {
  /** Serves the read from the state machine (called once applied >= the batch's read index). */
  serve(): void;
  fail(code: "UNAVAILABLE" | "TIMEOUT", message: string): void;
  deadlineMs: number;
}

interface Batch {
  context: Uint8Array;
  key: string;
  reads: WaitingRead[];
  issuedAtMs: number;
}

interface ConfirmedBatch {
  index: number;
  reads: WaitingRead[];
}

export interface ReadBatcherOptions {
  /** Asks the core for a read index with this context (rawNode.readIndex). */
  requestReadIndex(context: Uint8Array): void;
  /** Reissue a batch whose read state has not come back after this long (the core may drop it). */
  reissueAfterMs: number;
  /** Most reads waiting at once; more are refused UNAVAILABLE. */
  waitingMax: number;
  /** Most read index requests in flight at once. */
  inflightMax: number;
  /**
   * Who issues the contexts: this node's id and a number drawn at each boot. The leader keeps one
   * pending read per context, so contexts must differ across nodes (forwarded reads would share one
   * read state) and across one node's lives (a reused context could return an older read index).
   */
  origin: { nodeId: number; boot: number };
}

export class ReadBatcher {
  readonly #options: ReadBatcherOptions;
  #queued: WaitingRead[] = [];
  /** Issue order (a Map keeps insertion order). */
  readonly #inflight = new Map<string, Batch>();
  /** Ascending by index: the core returns read states in order. */
  #confirmed: ConfirmedBatch[] = [];
  #waiting = 0;
  #nextContext = 1;

  constructor(options: ReadBatcherOptions) {
    this.#options = options;
  }

  get waiting(): number {
    return this.#waiting;
  }

  get full(): boolean {
    return this.#waiting >= this.#options.waitingMax;
  }

  /** Queues a read for the next flush. */
  add(read: WaitingRead): void {
    this.#queued.push(read);
    this.#waiting += 1;
  }

  /** Issues one read index request for every queued read, unless too many are in flight. */
  flush(nowMs: number): void {
    if (this.#queued.length > 0 && this.#inflight.size < this.#options.inflightMax) {
      this.#issue(nowMs);
    }
  }

  /** A read state from the core's Ready. Unknown contexts (a batch reissued or failed) are ignored. */
  onReadState(context: Uint8Array, index: number): void {
    const key = contextKey(context);
    const batch = this.#inflight.get(key);
    if (batch === undefined) {
      return;
    }
    this.#inflight.delete(key);
    // Keep #confirmed ascending; serving a read at a higher index than it needs is always safe.
    const last = this.#confirmed[this.#confirmed.length - 1];
    if (last !== undefined && last.index >= index) {
      for (const read of batch.reads) {
        last.reads.push(read); // a batch can hold tens of thousands of reads: too many to spread
      }
    } else {
      this.#confirmed.push({ index, reads: batch.reads });
    }
  }

  /** Serves every confirmed batch whose index is applied. */
  onApplied(applied: number): void {
    while (this.#confirmed.length > 0 && this.#confirmed[0]!.index <= applied) {
      const batch = this.#confirmed.shift()!;
      this.#waiting -= batch.reads.length;
      for (const read of batch.reads) {
        read.serve();
      }
    }
  }

  /**
   * Leadership was lost: reads without a confirmed index fail (nothing was read, so the client may
   * retry anywhere); confirmed ones stay, since their index was valid when the read arrived.
   */
  failUnconfirmed(message: string): void {
    const reads = [...[...this.#inflight.values()].flatMap((batch) => batch.reads), ...this.#queued];
    this.#inflight.clear();
    this.#queued = [];
    this.#waiting -= reads.length;
    for (const read of reads) {
      read.fail("UNAVAILABLE", message);
    }
  }

  /** Fails everything (shutdown). */
  failAll(message: string): void {
    this.failUnconfirmed(message);
    const reads = this.#confirmed.flatMap((batch) => batch.reads);
    this.#confirmed = [];
    this.#waiting -= reads.length;
    for (const read of reads) {
      read.fail("UNAVAILABLE", message);
    }
  }

  /** Timer: expires reads past their deadline and reissues a batch the core seems to have dropped. */
  onTimer(nowMs: number): void {
    const expire = (reads: WaitingRead[]): WaitingRead[] =>
      reads.filter((read) => {
        if (read.deadlineMs > nowMs) {
          return true;
        }
        this.#waiting -= 1;
        read.fail("TIMEOUT", "no read index confirmed before the request deadline");
        return false;
      });
    this.#queued = expire(this.#queued);
    this.#confirmed = this.#confirmed.map((batch) => ({ index: batch.index, reads: expire(batch.reads) })).filter((batch) => batch.reads.length > 0);
    for (const [key, batch] of this.#inflight) {
      batch.reads = expire(batch.reads);
      if (nowMs - batch.issuedAtMs >= this.#options.reissueAfterMs) {
        this.#inflight.delete(key); // its reads join the next request
        this.#queued = [...batch.reads, ...this.#queued];
      }
    }
    this.flush(nowMs);
  }

  #issue(nowMs: number): void {
    const context = new Uint8Array(16);
    const view = new DataView(context.buffer);
    view.setUint32(0, this.#options.origin.nodeId);
    view.setUint32(4, this.#options.origin.boot >>> 0);
    view.setFloat64(8, this.#nextContext++);
    const batch: Batch = { context, key: contextKey(context), reads: this.#queued, issuedAtMs: nowMs };
    this.#queued = [];
    this.#inflight.set(batch.key, batch);
    this.#options.requestReadIndex(context);
  }
}

function contextKey(context: Uint8Array): string {
  return Buffer.from(context.buffer, context.byteOffset, context.length).toString("hex");
}
