// The shape of raftlab's operating errors: a stable code (lib/error-codes.ts) that callers match on,
// and a message that starts with it, so a log line or a crash names the condition without the class.

export class CodedError<Code extends string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}
