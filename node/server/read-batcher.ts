// Linearizable reads with ReadIndex, batched: one readIndex request to the core (one heartbeat
// round) covers every read that arrived before it was issued. Reads arriving while a request is in
// flight wait for the next one: a read index must be obtained after the read arrived. Once the
// core returns the read state, the batch waits until the node has applied up to its index.

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
}

export class ReadBatcher {
  readonly #options: ReadBatcherOptions;
  #queued: WaitingRead[] = [];
  #inflight: Batch | undefined;
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

  /** Queues a read; issues a read index request at once if none is in flight. */
  add(read: WaitingRead, nowMs: number): void {
    this.#queued.push(read);
    this.#waiting += 1;
    if (this.#inflight === undefined) {
      this.#issue(nowMs);
    }
  }

  /** A read state from the core's Ready. Unknown contexts (an earlier, reissued batch) are ignored. */
  onReadState(context: Uint8Array, index: number, nowMs: number): void {
    const inflight = this.#inflight;
    if (inflight === undefined || contextKey(context) !== inflight.key) {
      return;
    }
    this.#inflight = undefined;
    const last = this.#confirmed[this.#confirmed.length - 1];
    if (last !== undefined && last.index >= index) {
      last.reads.push(...inflight.reads); // a later batch may never need a lower index
    } else {
      this.#confirmed.push({ index, reads: inflight.reads });
    }
    if (this.#queued.length > 0) {
      this.#issue(nowMs);
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
    const reads = [...(this.#inflight?.reads ?? []), ...this.#queued];
    this.#inflight = undefined;
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
    this.#confirmed = this.#confirmed
      .map((batch) => ({ index: batch.index, reads: expire(batch.reads) }))
      .filter((batch) => batch.reads.length > 0);
    const inflight = this.#inflight;
    if (inflight !== undefined) {
      inflight.reads = expire(inflight.reads);
      if (nowMs - inflight.issuedAtMs >= this.#options.reissueAfterMs) {
        this.#inflight = undefined;
        this.#queued = [...inflight.reads, ...this.#queued];
      }
    }
    if (this.#inflight === undefined && this.#queued.length > 0) {
      this.#issue(nowMs);
    }
  }

  #issue(nowMs: number): void {
    const context = new Uint8Array(8);
    new DataView(context.buffer).setFloat64(0, this.#nextContext++);
    const batch: Batch = { context, key: contextKey(context), reads: this.#queued, issuedAtMs: nowMs };
    this.#queued = [];
    this.#inflight = batch;
    this.#options.requestReadIndex(context);
  }
}

function contextKey(context: Uint8Array): string {
  return Buffer.from(context.buffer, context.byteOffset, context.length).toString("hex");
}
