// The client operation stream: which operation, on which key, with which argument. A pure function
// of the seed: the n-th operation handed out is the same on every run with that seed (which worker
// gets it depends on timing, as in any real concurrent test).
import type { Json, OperationSpec } from "../../plugins/api.js";
import { SeededRng } from "../../lib/rng.js";

export interface GeneratedOperation {
  f: string;
  key: string | null;
  value: Json;
  readOnly: boolean;
}

export interface GeneratorOptions {
  operations: Readonly<Record<string, OperationSpec>>;
  /** Operation name → weight (names validated against `operations` by the workload plan). */
  mix: Readonly<Record<string, number>>;
  keys: number;
  distribution: "uniform" | "zipf";
  seed: number;
}

/** Name of the i-th key. Short strings, as in the reference histories ("0".."9"). */
export function keyName(index: number): string {
  return String(index);
}

/** Hands out run-wide unique integers, so that no two writes ever carry the same value. */
export class UniqueCounter {
  private last = 0;
  next(): number {
    this.last += 1;
    return this.last;
  }
}

export class OperationGenerator {
  private readonly rng: SeededRng;
  /** A separate stream for arguments, so a plugin's use of `random` does not shift op choices. */
  private readonly argumentRng: SeededRng;
  private readonly names: string[];
  private readonly cumulativeWeights: number[];
  private readonly keyCumulative: number[] | undefined;
  readonly unique: UniqueCounter;

  constructor(
    private readonly options: GeneratorOptions,
    unique: UniqueCounter = new UniqueCounter(),
  ) {
    this.rng = new SeededRng(options.seed);
    this.argumentRng = this.rng.fork();
    this.unique = unique;
    this.names = Object.keys(options.mix).filter((name) => (options.mix[name] ?? 0) > 0);
    if (this.names.length === 0) {
      throw new Error("invariant: the mix has a positive weight");
    }
    let total = 0;
    this.cumulativeWeights = this.names.map((name) => {
      if (options.operations[name] === undefined) {
        throw new Error(`invariant: mix operation "${name}" is one of the plugin's operations`);
      }
      total += options.mix[name] ?? 0;
      return total;
    });
    if (!Number.isInteger(options.keys) || options.keys < 1) {
      throw new RangeError(`keys must be a positive integer, got ${options.keys}`);
    }
    this.keyCumulative = options.distribution === "zipf" ? zipfCumulative(options.keys) : undefined;
  }

  next(): GeneratedOperation {
    const f = this.names[lowerBound(this.cumulativeWeights, this.rng.next() * this.total())] ?? this.names[0];
    if (f === undefined) {
      throw new Error("invariant: the mix has a name");
    }
    return this.operation(f, this.pickKey());
  }

  /** The operation `f` on `key` (or on no key, when `f` takes none), with a fresh argument. */
  operation(f: string, key: string | null): GeneratedOperation {
    const spec = this.options.operations[f];
    if (spec === undefined) {
      throw new Error(`invariant: "${f}" is one of the plugin's operations`);
    }
    const keyUsed = spec.keyed ? key : null;
    const value = spec.argument({ key: keyUsed, unique: this.unique.next(), random: () => this.argumentRng.next() });
    return { f, key: keyUsed, value, readOnly: spec.readOnly };
  }

  private total(): number {
    return this.cumulativeWeights[this.cumulativeWeights.length - 1] ?? 0;
  }

  private pickKey(): string {
    if (this.keyCumulative === undefined) {
      return keyName(this.rng.int(this.options.keys));
    }
    const draw = this.rng.next() * (this.keyCumulative[this.keyCumulative.length - 1] ?? 1);
    return keyName(Math.min(lowerBound(this.keyCumulative, draw), this.options.keys - 1));
  }
}

/** Cumulative weights 1/(k+1): key 0 is the hottest, as in a Zipf law with exponent 1. */
function zipfCumulative(keys: number): number[] {
  const cumulative: number[] = [];
  let total = 0;
  for (let rank = 0; rank < keys; rank += 1) {
    total += 1 / (rank + 1);
    cumulative.push(total);
  }
  return cumulative;
}

/** The first index whose cumulative weight exceeds `draw`. */
function lowerBound(cumulative: readonly number[], draw: number): number {
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((cumulative[middle] ?? Infinity) > draw) {
      high = middle;
    } else {
      low = middle + 1;
    }
  }
  return low;
}
