// The faults on one directed link between two nodes (source -> target): what the local runtime's
// proxies consult for every chunk travelling that way. One object per ordered pair, shared by every
// proxy that carries bytes in that direction: the a->b proxy's forward path and the b->a proxy's
// reply path both carry a's bytes to b when the node transport answers on the connection it was
// dialled on.
import type { TokenBucket } from "./token-bucket.js";

export interface LinkFaultsListener {
  /** The link stopped dropping: connections that lost bytes must restart to resynchronise framing. */
  unblocked?(): void;
  /** The link stopped losing packets: retransmissions still waiting out a backoff may go now. */
  lossCleared?(): void;
}

export class LinkFaults {
  #blocked = false;
  #lossProbability = 0;
  #delayMs = 0;
  #jitterMs = 0;
  #throttle: TokenBucket | undefined;
  readonly #listeners = new Set<LinkFaultsListener>();

  constructor(
    readonly source: number,
    readonly target: number,
  ) {}

  get blocked(): boolean {
    return this.#blocked;
  }

  /** Chance (0..1) that a transmission of a chunk is lost, so TCP must retransmit it after a timeout. */
  get lossProbability(): number {
    return this.#lossProbability;
  }

  get delayMs(): number {
    return this.#delayMs;
  }

  get jitterMs(): number {
    return this.#jitterMs;
  }

  /** The source node's rate limit, shared by every link out of it (one NIC); undefined when unlimited. */
  get throttle(): TokenBucket | undefined {
    return this.#throttle;
  }

  /** Whether any fault is active on this link. */
  get faulty(): boolean {
    return this.#blocked || this.#lossProbability > 0 || this.#delayMs > 0 || this.#jitterMs > 0 || this.#throttle !== undefined;
  }

  setBlocked(blocked: boolean): void {
    const wasBlocked = this.#blocked;
    this.#blocked = blocked;
    if (wasBlocked && !blocked) {
      this.#notify((listener) => listener.unblocked?.());
    }
  }

  setLossProbability(probability: number): void {
    if (!(probability >= 0 && probability <= 1)) {
      throw new RangeError(`link ${this.source}->${this.target}: loss probability must be within 0..1, got ${probability}`);
    }
    const wasLossy = this.#lossProbability > 0;
    this.#lossProbability = probability;
    if (wasLossy && probability === 0) {
      this.#notify((listener) => listener.lossCleared?.());
    }
  }

  setDelay(delayMs: number, jitterMs = 0): void {
    if (!(delayMs >= 0 && jitterMs >= 0 && Number.isFinite(delayMs) && Number.isFinite(jitterMs))) {
      throw new RangeError(`link ${this.source}->${this.target}: delay and jitter must be finite and >= 0, got ${delayMs} ms ± ${jitterMs} ms`);
    }
    this.#delayMs = delayMs;
    this.#jitterMs = jitterMs;
  }

  /** Rate-limits the link through `bucket` (pass the same bucket to every link out of a node), or lifts the limit. */
  setThrottle(bucket: TokenBucket | undefined): void {
    this.#throttle = bucket;
  }

  /** Removes every fault (unblocking and clearing loss notify listeners). */
  clear(): void {
    this.setLossProbability(0);
    this.setDelay(0, 0);
    this.setThrottle(undefined);
    this.setBlocked(false);
  }

  subscribe(listener: LinkFaultsListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  describe(): string {
    const parts: string[] = [];
    if (this.#blocked) {
      parts.push("blocked");
    }
    if (this.#lossProbability > 0) {
      parts.push(`loss ${this.#lossProbability}`);
    }
    if (this.#delayMs > 0 || this.#jitterMs > 0) {
      parts.push(`delay ${this.#delayMs}±${this.#jitterMs} ms`);
    }
    if (this.#throttle !== undefined) {
      parts.push(`rate ${(this.#throttle.bytesPerSecond * 8) / 1_000} kbit/s`);
    }
    return `${this.source}->${this.target}: ${parts.length === 0 ? "clean" : parts.join(", ")}`;
  }

  #notify(call: (listener: LinkFaultsListener) => void): void {
    for (const listener of [...this.#listeners]) {
      call(listener);
    }
  }
}
