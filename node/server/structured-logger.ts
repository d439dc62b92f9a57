// The logger the storage and transport pieces take: structured (message + fields), so the server
// can write JSON lines and tests can read records. Same shape as node/client's ClientLogger.

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface StructuredLogger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LogRecord {
  level: LogLevel;
  message: string;
  fields: LogFields;
}

export const silentLogger: StructuredLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Writes one JSON object per line: {time, level, msg, ...base, ...fields}. */
export function jsonLinesLogger(write: (line: string) => void, base: LogFields = {}): StructuredLogger {
  const emit = (level: LogLevel) => (message: string, fields: LogFields = {}): void => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...base, ...fields })}\n`);
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

/** Keeps the last `recordsMax` records in memory (tests, and a crash dump's recent history). */
export class RecordingLogger implements StructuredLogger {
  readonly records: LogRecord[] = [];
  /** Records dropped because the buffer was full. */
  dropped = 0;

  constructor(readonly recordsMax = 10_000) {}

  debug(message: string, fields: LogFields = {}): void {
    this.#record("debug", message, fields);
  }
  info(message: string, fields: LogFields = {}): void {
    this.#record("info", message, fields);
  }
  warn(message: string, fields: LogFields = {}): void {
    this.#record("warn", message, fields);
  }
  error(message: string, fields: LogFields = {}): void {
    this.#record("error", message, fields);
  }

  /** Records at `level` or above whose message matches. */
  find(level: LogLevel, message?: RegExp): LogRecord[] {
    const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
    return this.records.filter((r) => rank[r.level] >= rank[level] && (message === undefined || message.test(r.message)));
  }

  #record(level: LogLevel, message: string, fields: LogFields): void {
    if (this.records.length >= this.recordsMax) {
      this.records.shift();
      this.dropped += 1;
    }
    this.records.push({ level, message, fields });
  }
}
