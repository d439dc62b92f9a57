// Reads a JSON Lines history into validated events. Validation is strict because a checker that
// silently accepts a malformed history gives verdicts about a history nobody recorded.
import { isUtf8 } from "node:buffer";
import { closeSync, openSync, readSync } from "node:fs";
import type { Json } from "../plugins/api.js";
import { historyNestingMax, type ClientEvent, type EventType, type HistoryEvent, type NemesisEvent } from "./event.js";
import { HistoryError } from "./history-error.js";
import { badEncoding } from "./utf8.js";

export { decodeUtf8 } from "./utf8.js";

export interface ParsedHistory {
  /** The file name used in error messages and reports. */
  file: string;
  /** Every event in file order, nemesis events included (the checker skips them). */
  events: HistoryEvent[];
  /** 1-based line number of each event, parallel to `events` (blank lines are skipped). */
  lines: number[];
  /** Invokes by a process after its own info, accepted because of `allowInvokeAfterInfo`. */
  invokesAfterInfo: number;
}

export interface ParseOptions {
  /**
   * Accept a process invoking again after its own `info`. The format forbids it (the info'd
   * operation may still be in flight), but some converted reference histories (Knossos reads
   * whose result was lost) do it. The checker does not rely on the rule: an info operation
   * returns at +infinity whatever its process does next.
   */
  allowInvokeAfterInfo?: boolean;
}

const clientEventTypes: ReadonlySet<string> = new Set<EventType>(["invoke", "ok", "fail", "info"]);

/** Bytes read from a history file at a time: the file is never held whole, in bytes or as text. */
const readChunkBytes = 1 << 20;

/**
 * Reads and parses a history file line by line; I/O errors become HistoryError too. A
 * million-operation file is ~200 MB: holding its bytes and its text besides the events would
 * double the checker's peak memory.
 */
export async function readHistoryFile(path: string, options: ParseOptions = {}): Promise<ParsedHistory> {
  const unreadable = (error: unknown): HistoryError =>
    new HistoryError("HISTORY_UNREADABLE", path, null, null, `cannot read: ${error instanceof Error ? error.message : String(error)}`);
  // Synchronous reads: a chunk is parsed as soon as it is read, and the checker has nothing else
  // to do meanwhile (asynchronous ones measured idle time waiting on the thread pool).
  let descriptor: number;
  try {
    descriptor = openSync(path, "r");
  } catch (error) {
    throw unreadable(error);
  }
  try {
    const reader = new HistoryReader(path, options);
    let chunk = Buffer.alloc(readChunkBytes);
    // Bytes of chunk[0..filled) not yet split into lines: the start of a line the chunk cut.
    let filled = 0;
    let lineNumber = 0;
    for (;;) {
      if (filled === chunk.length) {
        // One line longer than the buffer: grow it.
        const larger = Buffer.alloc(chunk.length * 2);
        chunk.copy(larger, 0, 0, filled);
        chunk = larger;
      }
      let bytesRead: number;
      try {
        bytesRead = readSync(descriptor, chunk, filled, chunk.length - filled, null);
      } catch (error) {
        throw unreadable(error);
      }
      const end = filled + bytesRead;
      // The whole lines read so far (all of them at the end of the file), decoded at once.
      const linesEnd = bytesRead === 0 ? end : chunk.lastIndexOf(0x0a, end - 1) + 1;
      if (linesEnd > 0) {
        lineNumber = readLines(reader, chunk.subarray(0, linesEnd), path, lineNumber);
      }
      if (bytesRead === 0) {
        return reader.finish();
      }
      chunk.copy(chunk, 0, linesEnd, end);
      filled = end - linesEnd;
    }
  } finally {
    closeSync(descriptor);
  }
}

/**
 * Feeds whole lines (ending with a newline, or the file's last) to the reader; returns the last
 * line's number. Invalid UTF-8 is refused as decodeUtf8 does, naming its line.
 */
function readLines(reader: HistoryReader, bytes: Buffer, file: string, lineNumber: number): number {
  let line = lineNumber;
  if (!isUtf8(bytes)) {
    for (let start = 0; start < bytes.length; line += 1) {
      const newline = bytes.indexOf(0x0a, start);
      const end = newline === -1 ? bytes.length : newline;
      if (!isUtf8(bytes.subarray(start, end))) {
        throw badEncoding(bytes.subarray(start, end), file, line + 1);
      }
      start = end + 1;
    }
    throw new Error(`invariant: ${file} is not UTF-8 but each of its lines is`);
  }
  const text = bytes.toString("utf8");
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end === -1) {
      end = text.length;
    }
    line += 1;
    reader.line(text.slice(start, end), line);
    start = end + 1;
  }
  return line;
}

/** Per-process bookkeeping that enforces "at most one open operation, none after an info". */
interface ProcessState {
  open: ClientEvent | null;
  /** Line of the `info` that retired this process, or 0 while it is live. */
  retiredAtLine: number;
}

export function parseHistory(text: string, file: string, options: ParseOptions = {}): ParsedHistory {
  const reader = new HistoryReader(file, options);
  let lineStart = 0;
  let lineNumber = 0;
  while (lineStart < text.length) {
    let lineEnd = text.indexOf("\n", lineStart);
    if (lineEnd === -1) {
      lineEnd = text.length;
    }
    lineNumber += 1;
    reader.line(text.slice(lineStart, lineEnd), lineNumber);
    lineStart = lineEnd + 1;
  }
  return reader.finish();
}

/** Strings interned per history, at most this many: enough for every f, key and process name. */
const internedMax = 1 << 16;

/** Validates a history one line at a time (see parseHistory and readHistoryFile). */
class HistoryReader {
  private readonly allowInvokeAfterInfo: boolean;
  private invokesAfterInfo = 0;
  private readonly events: HistoryEvent[] = [];
  private readonly lines: number[] = [];
  private readonly processes = new Map<number, ProcessState>();
  private previousTime = -Infinity;
  // JSON.parse makes a new string for every "f", "type" and "key" of every line: two million
  // events would hold six million small strings where a few hundred distinct ones suffice.
  private readonly interned = new Map<string, string>();

  constructor(
    private readonly file: string,
    options: ParseOptions,
  ) {
    this.allowInvokeAfterInfo = options.allowInvokeAfterInfo ?? false;
  }

  line(raw: string, lineNumber: number): void {
    // Most lines start with their object: only others need the (allocating) trim.
    if (raw.charCodeAt(0) !== 0x7b && raw.trim() === "") {
      return;
    }
    const event = parseEventLine(raw, this.file, lineNumber, this.intern);
    if (event.time < this.previousTime) {
      throw new HistoryError(
        "HISTORY_TIME_DECREASING",
        this.file,
        lineNumber,
        "time",
        `${event.time} is before the previous event's ${this.previousTime}; times must not decrease`,
      );
    }
    this.previousTime = event.time;
    if (event.process !== "nemesis") {
      if (checkProcessOrder(event, this.processes, this.file, lineNumber, this.allowInvokeAfterInfo)) {
        this.invokesAfterInfo += 1;
      }
    }
    this.events.push(event);
    this.lines.push(lineNumber);
  }

  finish(): ParsedHistory {
    return { file: this.file, events: this.events, lines: this.lines, invokesAfterInfo: this.invokesAfterInfo };
  }

  private readonly intern = (text: string): string => {
    const known = this.interned.get(text);
    if (known !== undefined) {
      return known;
    }
    if (this.interned.size < internedMax) {
      this.interned.set(text, text);
    }
    return text;
  };
}

/** Returns true when the event is an invoke after an info by its process (and that is allowed). */
function checkProcessOrder(event: ClientEvent, processes: Map<number, ProcessState>, file: string, line: number, allowInvokeAfterInfo: boolean): boolean {
  let state = processes.get(event.process);
  if (state === undefined) {
    state = { open: null, retiredAtLine: 0 };
    processes.set(event.process, state);
  }
  if (event.type === "invoke") {
    const afterInfo = state.retiredAtLine !== 0;
    if (afterInfo && !allowInvokeAfterInfo) {
      throw new HistoryError(
        "HISTORY_INVOKE_AFTER_INFO",
        file,
        line,
        "process",
        `process ${event.process} invokes again after its info on line ${state.retiredAtLine}; after an info the client must take a new process id`,
      );
    }
    if (state.open !== null) {
      throw new HistoryError(
        "HISTORY_OVERLAPPING_INVOKE",
        file,
        line,
        "process",
        `process ${event.process} invokes while its ${state.open.f} (index ${state.open.index}) is still open`,
      );
    }
    state.open = event;
    return afterInfo;
  }
  const open = state.open;
  if (open === null) {
    throw new HistoryError("HISTORY_UNMATCHED_COMPLETION", file, line, "process", `${event.type} by process ${event.process} has no open invoke`);
  }
  if (open.f !== event.f) {
    throw new HistoryError("HISTORY_BAD_FIELD", file, line, "f", `"${event.f}" completes an invoke of "${open.f}"`);
  }
  if (event.key !== undefined && (open.key ?? null) !== (event.key ?? null)) {
    throw new HistoryError(
      "HISTORY_BAD_FIELD",
      file,
      line,
      "key",
      `${JSON.stringify(event.key)} completes an invoke on key ${JSON.stringify(open.key ?? null)}`,
    );
  }
  state.open = null;
  if (event.type === "info") {
    state.retiredAtLine = line;
  }
  return false;
}

function parseEventLine(raw: string, file: string, line: number, intern: (text: string) => string): HistoryEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new HistoryError("HISTORY_BAD_JSON", file, line, null, `not valid JSON: ${reason}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new HistoryError("HISTORY_BAD_JSON", file, line, null, "each line must be a JSON object");
  }
  const tooDeep = fieldNestedTooDeep(parsed as Record<string, unknown>);
  if (tooDeep !== undefined) {
    throw new HistoryError("HISTORY_BAD_FIELD", file, line, tooDeep, `nested more than ${historyNestingMax} levels deep`);
  }
  const record = parsed as Record<string, unknown>;

  const index = record["index"];
  if (typeof index !== "number" || !Number.isSafeInteger(index) || index < 0) {
    throw badField(file, line, "index", `expected a non-negative integer, got ${describe(index)}`);
  }
  const time = record["time"];
  if (typeof time !== "number" || !Number.isSafeInteger(time) || time < 0) {
    throw badField(file, line, "time", `expected a non-negative integer (nanoseconds), got ${describe(time)}`);
  }
  const f = record["f"];
  if (typeof f !== "string" || f === "") {
    throw badField(file, line, "f", `expected a non-empty string, got ${describe(f)}`);
  }
  if (!("value" in record)) {
    throw badField(file, line, "value", "missing (use null when there is none)");
  }
  const value = record["value"] as Json;
  const type = record["type"];
  const process = record["process"];
  if (process === "nemesis") {
    if (type !== "invoke" && type !== "info") {
      throw badField(file, line, "type", `a nemesis event is "invoke" or "info", got ${describe(type)}`);
    }
    const nemesis: NemesisEvent = { process, type, f, value, time, index };
    return nemesis;
  }
  if (typeof process !== "number" || !Number.isSafeInteger(process)) {
    throw badField(file, line, "process", `expected an integer or "nemesis", got ${describe(process)}`);
  }
  if (typeof type !== "string" || !clientEventTypes.has(type)) {
    throw badField(file, line, "type", `expected one of invoke, ok, fail, info, got ${describe(type)}`);
  }
  const key = record["key"];
  if (key !== undefined && key !== null && typeof key !== "string") {
    throw badField(file, line, "key", `expected a string or null, got ${describe(key)}`);
  }
  if (onlyKnownFields(record)) {
    // The parsed object becomes the event: no second object per line (two million of them in a
    // million-operation history, all garbage at once). Its strings are replaced by interned ones.
    const event = record as unknown as ClientEvent;
    event.type = intern(type) as EventType;
    event.f = intern(f);
    if (typeof key === "string") {
      event.key = intern(key);
    }
    if ((event.error !== undefined && typeof event.error !== "string") || (event.node !== undefined && typeof event.node !== "string")) {
      const field = event.error !== undefined && typeof event.error !== "string" ? "error" : "node";
      throw badField(file, line, field, `expected a string, got ${describe(record[field])}`);
    }
    return event;
  }
  // The key is in the literal when present: added afterwards it would take a separate
  // property store per event, 40 more bytes on each of millions of events.
  const event: ClientEvent =
    key === undefined
      ? { process, type: intern(type) as EventType, f: intern(f), value, time, index }
      : { process, type: intern(type) as EventType, f: intern(f), key: key === null ? null : intern(key), value, time, index };
  // Rare fields, looked up without a per-line array of their names.
  if (record["error"] !== undefined || record["node"] !== undefined) {
    for (const field of ["error", "node"] as const) {
      const text = record[field];
      if (text !== undefined) {
        if (typeof text !== "string") {
          throw badField(file, line, field, `expected a string, got ${describe(text)}`);
        }
        event[field] = text;
      }
    }
  }
  return event;
}

const knownClientFields: ReadonlySet<string> = new Set(["index", "time", "process", "type", "f", "key", "value", "error", "node"]);

/** Whether every field of the line is one a client event keeps (others are dropped). */
function onlyKnownFields(record: Record<string, unknown>): boolean {
  for (const field in record) {
    if (!knownClientFields.has(field)) {
      return false;
    }
  }
  return true;
}

function badField(file: string, line: number, field: string, detail: string): HistoryError {
  return new HistoryError("HISTORY_BAD_FIELD", file, line, field, detail);
}

/** The first field whose value nests deeper than historyNestingMax, or undefined. Iterative: a
 * recursive walk would overflow the stack on exactly the values it is meant to refuse. */
function fieldNestedTooDeep(record: Record<string, unknown>): string | undefined {
  for (const field in record) {
    const value = record[field];
    // Most fields are scalars: nothing to walk, and no allocation on a per-line path.
    if (typeof value !== "object" || value === null) {
      continue;
    }
    const stack: [unknown, number][] = [[value, 1]];
    while (stack.length > 0) {
      const [current, depth] = stack.pop()!;
      if (depth > historyNestingMax) {
        return field;
      }
      for (const child of Array.isArray(current) ? current : Object.values(current as object)) {
        if (typeof child === "object" && child !== null) {
          stack.push([child, depth + 1]);
        }
      }
    }
  }
  return undefined;
}

function describe(value: unknown): string {
  if (value === undefined) {
    return "nothing (missing)";
  }
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
