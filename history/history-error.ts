// Operating errors about a history file: each names the file, the line (1-based, as editors show
// it) and the field at fault, so a user can open the file and fix it.

export type HistoryErrorCode =
  | "HISTORY_UNREADABLE"
  | "HISTORY_BAD_JSON"
  | "HISTORY_BAD_ENCODING"
  | "HISTORY_BAD_FIELD"
  | "HISTORY_TIME_DECREASING"
  | "HISTORY_UNMATCHED_COMPLETION"
  | "HISTORY_OVERLAPPING_INVOKE"
  | "HISTORY_INVOKE_AFTER_INFO";

export class HistoryError extends Error {
  constructor(
    readonly code: HistoryErrorCode,
    /** The history file, as the user named it. */
    readonly file: string,
    /** 1-based line number, or null when the error is about the whole file. */
    readonly line: number | null,
    /** The field at fault, or null when the whole line is. */
    readonly field: string | null,
    detail: string,
  ) {
    const where = line === null ? file : `${file}:${line}`;
    super(field === null ? `${where}: ${detail}` : `${where}: field "${field}": ${detail}`);
    this.name = "HistoryError";
  }
}
