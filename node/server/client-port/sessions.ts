// At-most-once client sessions, part of the replicated state: clientId -> the last applied seq and
// its result. A retried command (same seq) gets the cached result without being applied again; an
// older seq is refused. The table lives in the snapshot, so deduplication survives failover,
// restarts and compaction. Every node must evict identically: entries are kept in the order of
// their last application (a Map's insertion order, re-inserted on each use) and the oldest are
// evicted once the table exceeds its cap. Nodes must therefore run with the same cap.
import type { Json } from "../../../plugins/api.js";

/** The outcome of applying one command, as replicated state (so identical on every node). */
export type CommandOutcome = { ok: true; result: Json } | { ok: false; code: "BAD_REQUEST"; message: string };

export type SessionCheck =
  | { kind: "new" }
  | { kind: "duplicate"; outcome: CommandOutcome }
  | { kind: "stale"; lastSeq: number };

interface SessionRecord {
  seq: number;
  outcome: CommandOutcome;
}

export class SessionTableError extends Error {
  readonly code = "BAD_SESSION_TABLE";
  override readonly name = "SessionTableError";
}

export class SessionTable {
  readonly #records = new Map<string, SessionRecord>();
  #evictions = 0;

  constructor(readonly capacity: number) {
    if (!(Number.isSafeInteger(capacity) && capacity >= 1)) {
      throw new RangeError(`SessionTable: capacity must be a positive integer, got ${capacity}`);
    }
  }

  get size(): number {
    return this.#records.size;
  }

  /** Sessions evicted since this table was created (not replicated; for logs and stats). */
  get evictions(): number {
    return this.#evictions;
  }

  check(clientId: string, seq: number): SessionCheck {
    const record = this.#records.get(clientId);
    if (record === undefined || seq > record.seq) {
      return { kind: "new" };
    }
    if (seq === record.seq) {
      return { kind: "duplicate", outcome: record.outcome };
    }
    return { kind: "stale", lastSeq: record.seq };
  }

  /** Records the outcome of a newly applied command, making this session the most recent. */
  record(clientId: string, seq: number, outcome: CommandOutcome): void {
    const previous = this.#records.get(clientId);
    if (previous !== undefined && !(seq > previous.seq)) {
      throw new Error(`invariant: session ${clientId} seq ${seq} recorded after seq ${previous.seq}`);
    }
    this.#records.delete(clientId);
    this.#records.set(clientId, { seq, outcome });
    while (this.#records.size > this.capacity) {
      const oldest = this.#records.keys().next().value as string;
      this.#records.delete(oldest);
      this.#evictions += 1;
    }
  }

  /** Least recently applied first: restoring in this order reproduces the eviction order. */
  toJson(): Json {
    const rows: Json[] = [];
    for (const [clientId, record] of this.#records) {
      rows.push([clientId, record.seq, record.outcome]);
    }
    return rows;
  }

  /** Replaces the contents with a table written by toJson; throws SessionTableError on bad input. */
  restore(json: unknown): void {
    if (!Array.isArray(json)) {
      throw new SessionTableError("session table: expected an array of [clientId, seq, outcome] rows");
    }
    const records = new Map<string, SessionRecord>();
    json.forEach((row: unknown, index) => {
      if (!Array.isArray(row) || row.length !== 3) {
        throw new SessionTableError(`session table row ${index}: expected [clientId, seq, outcome]`);
      }
      const [clientId, seq, outcome] = row as [unknown, unknown, unknown];
      if (typeof clientId !== "string" || !Number.isSafeInteger(seq) || !isCommandOutcome(outcome)) {
        throw new SessionTableError(`session table row ${index}: bad clientId, seq or outcome`);
      }
      records.set(clientId, { seq: seq as number, outcome });
    });
    this.#records.clear();
    for (const [clientId, record] of records) {
      this.#records.set(clientId, record);
    }
  }
}

function isCommandOutcome(value: unknown): value is CommandOutcome {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const outcome = value as Record<string, unknown>;
  if (outcome.ok === true) {
    return "result" in outcome;
  }
  return outcome.ok === false && outcome.code === "BAD_REQUEST" && typeof outcome.message === "string";
}
