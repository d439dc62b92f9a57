// Reads a JSON Lines history into validated events. Validation is strict because a checker that
// silently accepts a malformed history gives verdicts about a history nobody recorded.
import { isUtf8 } from "node:buffer";
import { readFile } from "node:fs/promises";
import type { Json } from "../plugins/api.js";
import { historyNestingMax, type ClientEvent, type EventType, type HistoryEvent, type NemesisEvent } from "./event.js";
import { HistoryError } from "./history-error.js";

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

/** Reads and parses a history file; I/O errors become HistoryError too. */
export async function readHistoryFile(path: string, options: ParseOptions = {}): Promise<ParsedHistory> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new HistoryError("HISTORY_UNREADABLE", path, null, null, `cannot read: ${reason}`);
  }
  return parseHistory(decodeUtf8(bytes, path), path, options);
}

/**
 * The file as text. Invalid UTF-8 is refused, naming the line: decoding it leniently would turn
 * every bad byte into U+FFFD, so "\xff" and "\xfe" would read as the same value.
 */
export function decodeUtf8(bytes: Buffer, file: string): string {
  if (isUtf8(bytes)) {
    return bytes.toString("utf8");
  }
  let lineStart = 0;
  for (let line = 1; ; line += 1) {
    const newline = bytes.indexOf(0x0a, lineStart);
    const lineEnd = newline === -1 ? bytes.length : newline;
    const lineBytes = bytes.subarray(lineStart, lineEnd);
    if (!isUtf8(lineBytes)) {
      const column = firstInvalidByte(lineBytes);
      const byte = lineBytes[column] ?? 0;
      throw new HistoryError(
        "HISTORY_BAD_ENCODING",
        file,
        line,
        null,
        `not valid UTF-8 (byte 0x${byte.toString(16).padStart(2, "0")} at byte ${column + 1} of the line); write strings as UTF-8 or \\u escapes`,
      );
    }
    if (newline === -1) {
      throw new Error(`invariant: ${file} is not UTF-8 but each of its lines is`);
    }
    lineStart = newline + 1;
  }
}

/** The offset of the first byte at which `bytes` stops being valid UTF-8 (character by character). */
function firstInvalidByte(bytes: Uint8Array): number {
  let offset = 0;
  while (offset < bytes.length) {
    const lead = bytes[offset] ?? 0;
    const length = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    if (!isUtf8(bytes.subarray(offset, offset + length))) {
      return offset;
    }
    offset += length;
  }
  return offset;
}

/** Per-process bookkeeping that enforces "at most one open operation, none after an info". */
interface ProcessState {
  open: ClientEvent | null;
  /** Line of the `info` that retired this process, or 0 while it is live. */
  retiredAtLine: number;
}

export function parseHistory(text: string, file: string, options: ParseOptions = {}): ParsedHistory {
  const allowInvokeAfterInfo = options.allowInvokeAfterInfo ?? false;
  let invokesAfterInfo = 0;
  const events: HistoryEvent[] = [];
  const lines: number[] = [];
  const processes = new Map<number, ProcessState>();
  let previousTime = -Infinity;
  let lineStart = 0;
  let lineNumber = 0;
  while (lineStart < text.length) {
    let lineEnd = text.indexOf("\n", lineStart);
    if (lineEnd === -1) {
      lineEnd = text.length;
    }
    lineNumber += 1;
    const raw = text.slice(lineStart, lineEnd);
    lineStart = lineEnd + 1;
    if (raw.trim() === "") {
      continue;
    }
    const event = parseEventLine(raw, file, lineNumber);
    if (event.time < previousTime) {
      throw new HistoryError(
        "HISTORY_TIME_DECREASING",
        file,
        lineNumber,
        "time",
        `${event.time} is before the previous event's ${previousTime}; times must not decrease`,
      );
    }
    previousTime = event.time;
    if (event.process !== "nemesis") {
      if (checkProcessOrder(event, processes, file, lineNumber, allowInvokeAfterInfo)) {
        invokesAfterInfo += 1;
      }
    }
    events.push(event);
    lines.push(lineNumber);
  }
  return { file, events, lines, invokesAfterInfo };
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

function parseEventLine(raw: string, file: string, line: number): HistoryEvent {
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
  const bad = (field: string, detail: string): HistoryError => new HistoryError("HISTORY_BAD_FIELD", file, line, field, detail);

  const index = record["index"];
  if (typeof index !== "number" || !Number.isSafeInteger(index) || index < 0) {
    throw bad("index", `expected a non-negative integer, got ${describe(index)}`);
  }
  const time = record["time"];
  if (typeof time !== "number" || !Number.isSafeInteger(time) || time < 0) {
    throw bad("time", `expected a non-negative integer (nanoseconds), got ${describe(time)}`);
  }
  const f = record["f"];
  if (typeof f !== "string" || f === "") {
    throw bad("f", `expected a non-empty string, got ${describe(f)}`);
  }
  if (!("value" in record)) {
    throw bad("value", "missing (use null when there is none)");
  }
  const value = record["value"] as Json;
  const type = record["type"];
  const process = record["process"];
  if (process === "nemesis") {
    if (type !== "invoke" && type !== "info") {
      throw bad("type", `a nemesis event is "invoke" or "info", got ${describe(type)}`);
    }
    const nemesis: NemesisEvent = { process, type, f, value, time, index };
    return nemesis;
  }
  if (typeof process !== "number" || !Number.isSafeInteger(process)) {
    throw bad("process", `expected an integer or "nemesis", got ${describe(process)}`);
  }
  if (typeof type !== "string" || !clientEventTypes.has(type)) {
    throw bad("type", `expected one of invoke, ok, fail, info, got ${describe(type)}`);
  }
  const event: ClientEvent = { process, type: type as EventType, f, value, time, index };
  const key = record["key"];
  if (key !== undefined) {
    if (key !== null && typeof key !== "string") {
      throw bad("key", `expected a string or null, got ${describe(key)}`);
    }
    event.key = key;
  }
  for (const field of ["error", "node"] as const) {
    const text = record[field];
    if (text !== undefined) {
      if (typeof text !== "string") {
        throw bad(field, `expected a string, got ${describe(text)}`);
      }
      event[field] = text;
    }
  }
  return event;
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
