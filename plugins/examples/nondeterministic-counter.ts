// An example of a BROKEN plugin, kept to show what the `replicas` check catches: the built-in
// counter, except that every `add` also records a "stamp" drawn with Math.random() in the state
// machine, and snapshot() includes it. Reads still answer the total, which every replica agrees
// on, so the history stays linearizable; only the replicas' state differs, and the end-of-run
// `replicas` check reports "replicas diverged". Load it by path:
//   raftlab run --plugin ./plugins/examples/nondeterministic-counter.ts
// A plugin's apply() must depend only on the state and the operation (no clock, no randomness,
// no I/O); the plugin compliance suite fails this one on its "is deterministic" check.
import type { Json, Operation, Plugin, StateMachine } from "../api.js";
import { counterPlugin } from "../counter/index.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

class StampedCounter implements StateMachine {
  readonly #inner = counterPlugin.createStateMachine();
  /** The last add's random stamp: different on every replica (the bug this example shows). */
  #stamp = 0;

  apply(op: Operation): Json {
    const result = this.#inner.apply(op);
    if (op.f === "add") {
      this.#stamp = Math.random();
    }
    return result;
  }

  snapshot(): Uint8Array {
    const inner = decoder.decode(this.#inner.snapshot());
    return encoder.encode(JSON.stringify({ inner, stamp: this.#stamp }));
  }

  restore(data: Uint8Array): void {
    const parsed = JSON.parse(decoder.decode(data)) as { inner: string; stamp: number };
    this.#inner.restore(encoder.encode(parsed.inner));
    this.#stamp = parsed.stamp;
  }
}

export const nondeterministicCounter: Plugin<number> = {
  ...counterPlugin,
  name: "nondeterministic-counter",
  description: "counter whose replicas draw a random stamp on every add (an example of a broken, nondeterministic plugin)",
  createStateMachine: () => new StampedCounter(),
};

export default nondeterministicCounter;
