// What the leader knows about one follower (etcd tracker/progress.go). States:
// probe: send one app at a time until the follower's position is found;
// replicate: stream optimistically within the inflight window;
// snapshot: a snapshot is on its way; send nothing until it lands or fails.
import { assert } from "../../lib/assert.js";
import { Inflights } from "./inflights.js";

export type ProgressState = "probe" | "replicate" | "snapshot";

export class Progress {
  /** Highest index known to be in the follower's log. Invariant: match < next. */
  match: number;
  /** Next index to send. */
  next: number;
  state: ProgressState = "probe";
  /** probe: an app is outstanding, wait for its answer (or a heartbeat answer) before the next. */
  probeSent = false;
  /** snapshot: the index of the snapshot in flight. */
  pendingSnapshot = 0;
  /** Heard from within the current election timeout (checkQuorum, snapshot sending). */
  recentActive = false;
  readonly inflights: Inflights;

  constructor(options: { match: number; next: number; maxInflight: number }) {
    this.match = options.match;
    this.next = options.next;
    this.inflights = new Inflights(options.maxInflight);
    assert(this.match < this.next, "progress: match < next");
  }

  #reset(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, resume after it: the follower either has it or will reject and we back off.
    const after = this.state === "snapshot" ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.#reset("probe");
    this.next = after;
  }

  becomeReplicate(): void {
    this.#reset("replicate");
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.#reset("snapshot");
    this.pendingSnapshot = snapshotIndex;
  }

  /** An acknowledgement up to `index`; returns whether match moved. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /** Records an app message carrying `entryCount` entries ending at `lastIndex`. */
  sentEntries(entryCount: number, lastIndex: number): void {
    if (this.state === "replicate") {
      if (entryCount > 0) {
        assert(lastIndex >= this.next, "progress: sent entries must start at next");
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex);
      }
    } else if (this.state === "probe") {
      this.probeSent = true;
    } else {
      assert(false, "progress: sending entries in snapshot state");
    }
  }

  /**
   * The follower rejected the app whose previous index was `rejected`; `matchHint` is where the
   * leader's own log agrees with the follower's hint. Returns false for a stale rejection.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === "replicate") {
      if (rejected <= this.match) {
        return false;
      }
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) {
      return false;
    }
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.inflights.full();
      case "snapshot":
        return true;
    }
  }
}
