// Exactly-once client sessions (Raft thesis §6.3), part of the replicated state: clientId -> the
// last applied seq and its result. A client first opens a session with a log entry of its own; the
// session's id is that entry's index, so it is unique for the cluster's life and a retried open
// only makes a second session. A retried command (same seq) gets the cached result without being
// applied again; an older seq is refused. A command naming a session the table does not hold
// (never opened, or expired) is refused SESSION_EXPIRED and not applied: it can never look new,
// so a retry cannot apply twice. The table lives in the snapshot, so deduplication survives
// failover, restarts and compaction.
//
// The limit: at most `capacity` sessions (--sessions-max, default 10,000). Opening one more expires
// the least recently used (a Map's insertion order, re-inserted on each use); every node expires
// identically, so nodes must run with the same cap. A client whose session expired gets
// SESSION_EXPIRED and must open a new one; the command it was retrying stays indeterminate.
import type { Json } from "../../../plugins/api.js";

/** The outcome of applying one command, as replicated state (so identical on every node). */
export type CommandOutcome = { ok: true; result: Json } | { ok: false; code: "BAD_REQUEST" | "SESSION_EXPIRED" | "PLUGIN_FAILED"; message: string };

export type SessionCheck =
  /** Never opened, or expired: the command must not be applied. */
  | { kind: "unknown" }
  | { kind: "new" }
  | { kind: "duplicate"; outcome: CommandOutcome }
  | { kind: "stale"; lastSeq: number };

interface SessionRecord {
  /** 0 for a session opened and not used yet. */
  seq: number;
  /** The outcome of seq; null before the first command. */
  outcome: CommandOutcome | null;
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
    if (record === undefined) {
      return { kind: "unknown" };
    }
    if (seq > record.seq) {
      return { kind: "new" };
    }
    if (seq === record.seq && record.outcome !== null) {
      return { kind: "duplicate", outcome: record.outcome };
    }
    return { kind: "stale", lastSeq: record.seq };
  }

  /** Opens a session (the id is the index of its open entry: never reused), expiring the least recently used beyond capacity. */
  open(clientId: string): void {
    if (this.#records.has(clientId)) {
      throw new Error(`invariant: session ${clientId} opened twice`);
    }
    this.#records.set(clientId, { seq: 0, outcome: null });
    this.#evict();
  }

  /** Records the outcome of a newly applied command, making this session the most recent. */
  record(clientId: string, seq: number, outcome: CommandOutcome): void {
    const previous = this.#records.get(clientId);
    if (previous === undefined || !(seq > previous.seq)) {
      throw new Error(`invariant: session ${clientId} seq ${seq} recorded after ${previous === undefined ? "no open" : `seq ${previous.seq}`}`);
    }
    this.#records.delete(clientId);
    this.#records.set(clientId, { seq, outcome });
    this.#evict();
  }

  #evict(): void {
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
      if (typeof clientId !== "string" || !Number.isSafeInteger(seq) || !(outcome === null || isCommandOutcome(outcome))) {
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
  return outcome.ok === false && (outcome.code === "BAD_REQUEST" || outcome.code === "SESSION_EXPIRED" || outcome.code === "PLUGIN_FAILED") && typeof outcome.message === "string";
}
