// Drives the Raft core's logical clock from wall time. setInterval drifts and stalls under load
// (GC, a busy loop); the ticker counts elapsed intervals on a monotonic clock and delivers the
// ticks owed, capped so that a long stall (e.g. SIGSTOP) does not fire a burst that times out
// every election at once.

export interface TickerOptions {
  intervalMs: number;
  /** Most ticks delivered after one stall; the rest are dropped. */
  catchUpTicksMax?: number;
  onTick: () => void;
  /** Monotonic milliseconds; performance.now by default. */
  now?: () => number;
}

export class Ticker {
  readonly #options: Required<TickerOptions>;
  #timer: NodeJS.Timeout | undefined;
  /** Monotonic time of the last tick delivered (or dropped while catching up). */
  #lastTickMs = 0;
  #ticksDelivered = 0;
  #ticksDropped = 0;

  constructor(options: TickerOptions) {
    if (!(options.intervalMs >= 1)) {
      throw new RangeError(`Ticker: intervalMs must be >= 1, got ${options.intervalMs}`);
    }
    this.#options = { catchUpTicksMax: 3, now: () => performance.now(), ...options };
  }

  start(): void {
    if (this.#timer !== undefined) {
      throw new Error("invariant: Ticker.start called twice");
    }
    this.#lastTickMs = this.#options.now();
    this.#timer = setInterval(() => this.#onInterval(), this.#options.intervalMs);
  }

  stop(): void {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  get stats(): { ticksDelivered: number; ticksDropped: number } {
    return { ticksDelivered: this.#ticksDelivered, ticksDropped: this.#ticksDropped };
  }

  #onInterval(): void {
    const now = this.#options.now();
    const owed = Math.floor((now - this.#lastTickMs) / this.#options.intervalMs);
    if (owed <= 0) {
      return;
    }
    this.#lastTickMs += owed * this.#options.intervalMs;
    const deliver = Math.min(owed, this.#options.catchUpTicksMax);
    this.#ticksDropped += owed - deliver;
    for (let i = 0; i < deliver && this.#timer !== undefined; i++) {
      this.#ticksDelivered += 1;
      this.#options.onTick();
    }
  }
}
