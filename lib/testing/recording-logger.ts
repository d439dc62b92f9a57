// A Logger for tests: keeps the last records in memory so that a test can assert what was logged.
import { LOG_LEVELS, type LogFields, type Logger, type LogLevel } from "../logger.js";

export interface LogRecord {
  level: LogLevel;
  message: string;
  fields: LogFields;
}

/** Keeps the last `recordsMax` records; children share the parent's records. */
export class RecordingLogger implements Logger {
  readonly records: LogRecord[] = [];
  /** Records dropped because the buffer was full. */
  dropped = 0;

  constructor(readonly recordsMax = 10_000) {}

  debug(message: string, fields: LogFields = {}): void {
    this.record("debug", message, fields);
  }
  info(message: string, fields: LogFields = {}): void {
    this.record("info", message, fields);
  }
  warn(message: string, fields: LogFields = {}): void {
    this.record("warn", message, fields);
  }
  error(message: string, fields: LogFields = {}): void {
    this.record("error", message, fields);
  }

  child(base: LogFields): Logger {
    const emit =
      (level: LogLevel) =>
      (message: string, fields: LogFields = {}): void =>
        this.record(level, message, { ...base, ...fields });
    return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error"), child: (more) => this.child({ ...base, ...more }) };
  }

  /** Records at `level` or above whose message matches. */
  find(level: LogLevel, message?: RegExp): LogRecord[] {
    const rankMin = LOG_LEVELS.indexOf(level);
    return this.records.filter((r) => LOG_LEVELS.indexOf(r.level) >= rankMin && (message === undefined || message.test(r.message)));
  }

  record(level: LogLevel, message: string, fields: LogFields): void {
    if (this.records.length >= this.recordsMax) {
      this.records.shift();
      this.dropped += 1;
    }
    this.records.push({ level, message, fields });
  }
}
