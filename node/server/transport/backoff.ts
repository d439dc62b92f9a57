// Exponential backoff with jitter for reconnecting to peers. "Equal jitter": the delay is drawn
// from [ceiling/2, ceiling], so it always grows (unlike full jitter) while nodes that lost a peer at
// the same moment still spread their retries out.

export interface BackoffOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  multiplier?: number;
  /** Uniform in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

export class Backoff {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.initialDelayMs = options.initialDelayMs ?? 20;
    this.maxDelayMs = options.maxDelayMs ?? 1000;
    this.multiplier = options.multiplier ?? 2;
    this.#random = options.random ?? Math.random;
    if (!(this.initialDelayMs > 0 && this.maxDelayMs >= this.initialDelayMs && this.multiplier >= 1)) {
      throw new RangeError(
        `Backoff: need 0 < initialDelayMs <= maxDelayMs and multiplier >= 1, got ${this.initialDelayMs}, ${this.maxDelayMs}, ${this.multiplier}`,
      );
    }
  }

  /** Failures since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt; each call moves one step up the ladder. */
  nextDelayMs(): number {
    const ceiling = Math.min(this.maxDelayMs, this.initialDelayMs * this.multiplier ** this.#attempt);
    this.#attempt += 1;
    return ceiling / 2 + (this.#random() * ceiling) / 2;
  }

  reset(): void {
    this.#attempt = 0;
  }
}
