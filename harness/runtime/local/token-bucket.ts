// A token bucket for a link's rate limit, as tc's tbf shapes a NIC: bytes leave at `bytesPerSecond`
// on average, and an idle link may send up to `burstBytes` at once. It only answers WHEN each piece
// may leave; holding it until then is the caller's job (proxied-connection.ts). Instead of a token
// count it keeps one time, `#emptyAt`: the bucket holds (t - emptyAt) * rate tokens at time t, at
// most a burst's worth, so no timer is needed to refill it.

export class TokenBucket {
  /** When the bucket was (or will be) empty, had it never been full (ms, on the caller's clock). */
  #emptyAt = Number.NEGATIVE_INFINITY;
  readonly #burstMs: number;

  constructor(
    readonly bytesPerSecond: number,
    readonly burstBytes: number,
  ) {
    if (!(Number.isFinite(bytesPerSecond) && bytesPerSecond > 0 && Number.isFinite(burstBytes) && burstBytes >= 0)) {
      throw new RangeError(`token bucket: rate must be > 0 and burst >= 0, got ${bytesPerSecond} B/s and ${burstBytes} B`);
    }
    this.#burstMs = (burstBytes * 1_000) / bytesPerSecond;
  }

  /** A bucket for a rate in bits per second, with the burst the Docker runtime gives tbf. */
  static forRate(bitsPerSecond: number): TokenBucket {
    return new TokenBucket(bitsPerSecond / 8, burstBytesFor(bitsPerSecond));
  }

  /** Reserves `bytes` asked to leave at `nowMs`; returns when they may leave (>= nowMs). */
  reserve(bytes: number, nowMs: number): number {
    const costMs = (bytes * 1_000) / this.bytesPerSecond;
    // The bytes leave once the bucket holds their tokens; a full bucket stops filling at the burst.
    const leaveAt = Math.max(nowMs, this.#emptyAt + costMs);
    this.#emptyAt = Math.max(this.#emptyAt, leaveAt - this.#burstMs) + costMs;
    return leaveAt;
  }
}

/** The burst allowed at a rate: 20 ms of traffic, and at least two full packets (tbf needs one). */
export function burstBytesFor(bitsPerSecond: number): number {
  return Math.max(3_000, Math.ceil((bitsPerSecond / 8) * 0.02));
}
