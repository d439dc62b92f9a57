// A small seeded PRNG (sfc32, seeded through splitmix32) so a workload's operation stream is a
// function of its seed. Not for cryptography.

export class SeededRng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`seed must be a non-negative safe integer, got ${seed}`);
    }
    // splitmix32 spreads nearby seeds (1, 2, 3...) into unrelated states; the high bits matter too.
    let state = (seed ^ Math.floor(seed / 2 ** 32)) >>> 0;
    const splitmix = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix();
    this.b = splitmix();
    this.c = splitmix();
    this.d = splitmix();
    for (let round = 0; round < 12; round += 1) {
      this.nextUint32();
    }
  }

  /** A uniform integer in [0, 2^32). */
  nextUint32(): number {
    const result = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + result) >>> 0;
    return result;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** A uniform integer in [0, bound). */
  int(bound: number): number {
    if (!Number.isInteger(bound) || bound <= 0) {
      throw new RangeError(`bound must be a positive integer, got ${bound}`);
    }
    return Math.floor(this.next() * bound);
  }

  /** A new generator seeded from this one: independent streams from one seed. */
  fork(): SeededRng {
    return new SeededRng(this.nextUint32() * 2 ** 21 + (this.nextUint32() >>> 11));
  }
}
