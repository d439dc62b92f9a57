// JSON-lines logger for the node process: one object per line on stderr with time (ISO), level,
// node and msg, plus the caller's fields. stderr is synchronous for files and pipes on Linux, so a
// line is never lost when the process is killed right after logging it.

import { LOG_LEVELS, type LogFields, type Logger, type LogLevel } from "../../lib/logger.js";

export interface JsonLoggerOptions {
  node: number;
  levelMin?: LogLevel;
  /** Where lines go; stderr by default. Tests pass a collector. */
  write?: (line: string) => void;
  /** Fields added to every line. */
  base?: LogFields;
}

export function createJsonLogger(options: JsonLoggerOptions): Logger {
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const rankMin = LOG_LEVELS.indexOf(options.levelMin ?? "info");
  const base = options.base ?? {};
  const log = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (LOG_LEVELS.indexOf(level) < rankMin) {
      return;
    }
    const record = { time: new Date().toISOString(), level, node: options.node, msg, ...base, ...fields };
    write(`${safeStringify(record)}\n`);
  };
  return {
    debug: (msg, fields) => log("debug", msg, fields),
    info: (msg, fields) => log("info", msg, fields),
    warn: (msg, fields) => log("warn", msg, fields),
    error: (msg, fields) => log("error", msg, fields),
    child: (fields) => createJsonLogger({ ...options, base: { ...base, ...fields } }),
  };
}

/** JSON.stringify that never throws: Errors become {name, message, code}, bigints strings, cycles "[cycle]". */
function safeStringify(record: Record<string, unknown>): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(record, (_key, value: unknown) => {
    if (typeof value === "bigint") {
      return value.toString();
    }
    if (value instanceof Error) {
      const code = (value as { code?: unknown }).code;
      return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }) };
    }
    if (value instanceof Uint8Array) {
      return `<${value.length} bytes>`;
    }
    if (typeof value === "object" && value !== null) {
      if (seen.has(value)) {
        return "[cycle]";
      }
      seen.add(value);
    }
    return value;
  });
}
