// The plugin contract. One module gives both halves of a replicated state machine:
// the node-side StateMachine (apply, snapshot, restore) and the checker-side sequential Model.
// Plugins import nothing from node/ or harness/.

/** Any value that survives JSON.stringify/parse unchanged. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One client operation: what a client asks for. The same shape is logged in histories. */
export interface Operation {
  /** The operation name, e.g. "get", "put", "cas", "add", "enqueue". */
  f: string;
  /** The key it touches, for keyed state machines; null or absent otherwise. */
  key?: string | null;
  /** The argument (null when the operation takes none). */
  value: Json;
}

/** The node half: a deterministic state machine fed with committed operations, in log order. */
export interface StateMachine {
  /** Applies one committed operation and returns its result. Must be deterministic. */
  apply(op: Operation): Json;
  /** Serialises the whole state; restore(snapshot()) must give an equal machine. */
  snapshot(): Uint8Array;
  /** Replaces the state with a snapshot's. Throws PluginError on bad bytes. */
  restore(data: Uint8Array): void;
  /**
   * Optional, for large states: freezes the state as it is now and returns a writer that
   * serialises it in slices, while apply() goes on changing the live state between slices (the
   * node yields to its event loop between them, so heartbeats keep leaving). The concatenated
   * slices must restore() to a machine equal to the one at the call; they need not equal
   * snapshot()'s bytes. Plugins without it are serialised in one go with snapshot().
   */
  beginSnapshot?(): SnapshotWriter;
  /**
   * Optional, for large states: returns a reader that takes a snapshot's bytes in slices of any
   * size (the node yields to its event loop between them) and replaces the state at finish(). The
   * state in force stays unchanged until finish() returns; a push() or finish() that throws
   * (PluginError BAD_SNAPSHOT on bad bytes) leaves it intact. No apply() runs while a reader is
   * open. The bytes pushed in order must give the same machine as restore() of their concatenation.
   * Plugins without it are restored in one go with restore().
   */
  beginRestore?(): SnapshotReader;
}

/** Restores a snapshot one slice at a time (StateMachine.beginRestore). */
export interface SnapshotReader {
  /** The next bytes of the snapshot, in order; may be cut anywhere (mid-record, mid-character). */
  push(bytes: Uint8Array): void;
  /** All bytes were pushed: checks the end and swaps the restored state in. */
  finish(): void;
}

/** Serialises a frozen state one slice at a time (StateMachine.beginSnapshot). */
export interface SnapshotWriter {
  /** The next slice of about budgetBytes bytes, or undefined once everything was returned. */
  next(budgetBytes: number): Uint8Array | undefined;
}

/** The outcome the checker hands to Model.step: a known result, or unknown (an `info` op). */
export type Outcome = { known: true; value: Json } | { known: false };

/** The checker half: a pure sequential specification. States are immutable values. */
export interface Model<S> {
  init(): S;
  /**
   * Applies `input` to `state`. Returns the next state when `outcome` is a result the
   * specification allows from `state`, or undefined when it is not. With an unknown outcome
   * the step is always legal and returns the state the operation would leave.
   * Must not mutate `state`.
   */
  step(state: S, input: Operation, outcome: Outcome): S | undefined;
  /** A string equal for equal states (the memo key for the search). */
  stateKey(state: S): string;
  /**
   * Splits a history into independent parts (P-compositionality), e.g. by key: the part's key, or
   * null for an operation that may touch every part (the history then stays one partition, so
   * `step` must keep parts apart within one state). Throws PluginError("BAD_ARGUMENT") for an
   * operation that belongs to no part (a kv operation without a key): the checker reports the
   * history as bad input, naming the operation.
   */
  partitionKey(input: Operation): string | null;
  describeOperation(input: Operation, outcome: Outcome): string;
  describeState(state: S): string;
  /**
   * Optional: simplifies one history (one partition) before the linearizability search, using
   * what the specification implies about it. Every part must keep the verdict exact; see
   * HistoryPreparation. Models without it are searched as they are.
   */
  prepareHistory?(operations: readonly TimedOperation[]): HistoryPreparation;
}

/** One operation of a history, as Model.prepareHistory sees it. */
export interface TimedOperation {
  input: Operation;
  outcome: Outcome;
  /**
   * Real-time positions of the call and the completion (Infinity when the outcome is unknown):
   * `a` precedes `b` in real time when a.ret < b.call.
   */
  call: number;
  ret: number;
}

/** What a model may tell the checker about one history. Indexes refer to the operations given. */
export interface HistoryPreparation {
  /** A specification for this history only, replacing the model's init, step, stateKey and describeState. */
  model?: PreparedModel<unknown>;
  /**
   * Unknown-outcome operations that can be left out: whenever the history has a linearization,
   * it has one in which none of them took effect.
   */
  omit?: readonly number[];
  /**
   * Pairs [a, b]: every linearization of the history that contains b has a before b. An
   * unknown-outcome `a` before a `b` that must take effect must then take effect too.
   */
  precedences?: readonly (readonly [number, number])[];
  /**
   * Search order only (never the verdict): among candidates of the same kind, operations with a
   * lower priority are tried first, and operations without one after them.
   */
  priorities?: ReadonlyMap<number, number>;
  /**
   * A violation found without searching: the history certainly has no linearization. The
   * checker reports it as illegal, with `operation` as the one that cannot be linearized, and
   * `cycle` (when given) as the orders that contradict each other.
   */
  violation?: { operation: number; reason: string; cycle?: readonly PrecedenceStep[] };
  /**
   * A linearization found without searching: operation indexes in linearization order, every
   * ok operation once, unknown-outcome ones at most once, none of `omit`. The checker verifies
   * it (real-time order and the model's steps) and reports the history linearizable.
   */
  linearization?: readonly number[];
}

/**
 * One order in a cycle of orders that no linearization can meet: `before` must be linearized
 * before `after` (indexes of operations; null stands for the initial state, before everything).
 * Each step's `after` is the next step's `before`, and the last step's `after` the first's
 * `before`.
 */
export interface PrecedenceStep {
  before: number | null;
  after: number | null;
  /**
   * real-time: `before` returned before `after` was called. read-from: `after` read the value
   * `before` wrote (or the initial one). write-order: the value `before` wrote (or the initial
   * one) was current before the one `after` wrote, because `evidence[0]` (`before` itself or a
   * read of its value) returned before `evidence[1]` (`after` itself or a read of its value) was
   * called, and each value is written once; without evidence when `before` is null (the
   * initial state comes before every write).
   */
  because: "real-time" | "read-from" | "write-order";
  evidence?: readonly [number, number];
}

/**
 * A sequential specification for one history, stepping by operation index. It must accept a
 * sequence of the history's operations (in an order that respects real time) only when the model
 * accepts a real-time-respecting order of the same operations, and accept every sequence that the
 * model accepts and that can be completed into a linearization. Its state may stand for several
 * model states (e.g. values whose order is not decided yet), and its stateKey may be equal for
 * states that no operation of the history can tell apart; a search that reached the same set of
 * operations with the same key must have the same futures.
 */
export interface PreparedModel<T> {
  init(): T;
  /** Applies operations[operation] with its outcome: the next state, or undefined when not allowed. */
  step(state: T, operation: number): T | undefined;
  stateKey(state: T): string;
  describeState(state: T): string;
}

/** How a workload generator makes arguments for one operation. */
export interface OperationSpec {
  /** Reads do not change state; the node serves them with ReadIndex instead of the log. */
  readOnly: boolean;
  /** Whether the operation takes a key. */
  keyed: boolean;
  /** Builds the argument. `unique` is a run-wide unique integer, so written values never repeat. */
  argument(context: { key: string | null; unique: number; random: () => number }): Json;
}

export interface Plugin<S = unknown> {
  /** Short name used in workloads and on the command line, e.g. "kv". */
  name: string;
  description: string;
  /** Every operation this plugin accepts, by name. */
  operations: Record<string, OperationSpec>;
  createStateMachine(): StateMachine;
  model: Model<S>;
}

export type PluginErrorCode = "UNKNOWN_OPERATION" | "BAD_ARGUMENT" | "BAD_SNAPSHOT" | "BAD_PLUGIN";

const pluginErrorCodes: ReadonlySet<string> = new Set<PluginErrorCode>(["UNKNOWN_OPERATION", "BAD_ARGUMENT", "BAD_SNAPSHOT", "BAD_PLUGIN"]);

export class PluginError extends Error {
  /**
   * `instanceof PluginError` also holds for a PluginError built by another copy of this module
   * (a third-party plugin that imports its own api.js, or source next to a compiled dist/), so the
   * node still turns it into a client error instead of crashing.
   */
  static override [Symbol.hasInstance](value: unknown): value is PluginError {
    if (this !== PluginError) {
      return Function.prototype[Symbol.hasInstance].call(this, value);
    }
    if (!(value instanceof Error) || value.name !== "PluginError") {
      return false;
    }
    const code = (value as { code?: unknown }).code;
    return typeof code === "string" && pluginErrorCodes.has(code);
  }

  constructor(
    readonly code: PluginErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "PluginError";
  }
}
