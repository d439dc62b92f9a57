import { describe, expect, it } from "vitest";
import { burstBytesFor, TokenBucket } from "./token-bucket.js";

describe("TokenBucket", () => {
  it("lets a burst leave at once, then paces bytes at the rate", () => {
    const bucket = new TokenBucket(1_000, 2_000); // 1 kB/s, 2 kB burst
    // Four 1 kB pieces asked to leave together at t=0: the first two fit the burst.
    expect([bucket.reserve(1_000, 0), bucket.reserve(1_000, 0), bucket.reserve(1_000, 0), bucket.reserve(1_000, 0)]).toEqual([0, 0, 1_000, 2_000]);
  });

  it("sends a long stream at the rate: N bytes take N / rate after the burst", () => {
    const bucket = new TokenBucket(32_000, 3_000);
    let leaveAt = 0;
    for (let sent = 0; sent < 320_000; sent += 1_000) {
      leaveAt = bucket.reserve(1_000, 0);
    }
    // 320 kB at 32 kB/s is 10 s; the burst's 3 kB left at once, so the last piece leaves that much sooner.
    expect(leaveAt).toBeCloseTo(((320_000 - 3_000) / 32_000) * 1_000, 6);
  });

  it("refills while idle, but never beyond the burst", () => {
    const bucket = new TokenBucket(1_000, 1_000);
    expect(bucket.reserve(1_000, 0)).toBe(0);
    expect(bucket.reserve(1_000, 100)).toBe(1_000); // the burst is spent; 100 ms refilled a tenth
    expect(bucket.reserve(500, 60_000)).toBe(60_000); // long idle: a burst's worth again, no more
    expect(bucket.reserve(500, 60_000)).toBe(60_000);
    expect(bucket.reserve(500, 60_000)).toBe(60_500);
  });

  it("gives tbf a burst of 20 ms of traffic and at least two packets", () => {
    expect(burstBytesFor(256_000)).toBe(3_000);
    expect(burstBytesFor(100_000_000)).toBe(250_000);
    expect(TokenBucket.forRate(256_000)).toMatchObject({ bytesPerSecond: 32_000, burstBytes: 3_000 });
  });
});
