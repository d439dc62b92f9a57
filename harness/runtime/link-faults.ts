// The faults on one directed link between two nodes (source -> target): what the local runtime's
// proxies consult for every chunk travelling that way. One object per ordered pair, shared by every
// proxy that carries bytes in that direction: the a->b proxy's forward path and the b->a proxy's
// reply path both carry a's bytes to b when the node transport answers on the connection it was
// dialled on.

export interface LinkFaultsListener {
  /** The link stopped dropping: connections that lost bytes must restart to resynchronise framing. */
  unblocked(): void;
}

export class LinkFaults {
  #blocked = false;
  #lossProbability = 0;
  #delayMs = 0;
  #jitterMs = 0;
  readonly #listeners = new Set<LinkFaultsListener>();

  constructor(
    readonly source: number,
    readonly target: number,
  ) {}

  get blocked(): boolean {
    return this.#blocked;
  }

  /** Chance (0..1) that a chunk kills its connection instead of being delivered. */
  get lossProbability(): number {
    return this.#lossProbability;
  }

  get delayMs(): number {
    return this.#delayMs;
  }

  get jitterMs(): number {
    return this.#jitterMs;
  }

  /** Whether any fault is active on this link. */
  get faulty(): boolean {
    return this.#blocked || this.#lossProbability > 0 || this.#delayMs > 0 || this.#jitterMs > 0;
  }

  setBlocked(blocked: boolean): void {
    const wasBlocked = this.#blocked;
    this.#blocked = blocked;
    if (wasBlocked && !blocked) {
      for (const listener of [...this.#listeners]) {
        listener.unblocked();
      }
    }
  }

  setLossProbability(probability: number): void {
    if (!(probability >= 0 && probability <= 1)) {
      throw new RangeError(`link ${this.source}->${this.target}: loss probability must be within 0..1, got ${probability}`);
    }
    this.#lossProbability = probability;
  }

  setDelay(delayMs: number, jitterMs = 0): void {
    if (!(delayMs >= 0 && jitterMs >= 0 && Number.isFinite(delayMs) && Number.isFinite(jitterMs))) {
      throw new RangeError(`link ${this.source}->${this.target}: delay and jitter must be finite and >= 0, got ${delayMs} ms ± ${jitterMs} ms`);
    }
    this.#delayMs = delayMs;
    this.#jitterMs = jitterMs;
  }

  /** Removes every fault (unblocking notifies listeners). */
  clear(): void {
    this.setLossProbability(0);
    this.setDelay(0, 0);
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
    return `${this.source}->${this.target}: ${parts.length === 0 ? "clean" : parts.join(", ")}`;
  }
}
