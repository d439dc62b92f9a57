// A bad node flag or config-file setting; the message names it. main.ts exits 254 with it.
export class ConfigError extends Error {
  readonly code = "BAD_FLAG";
  override readonly name = "ConfigError";
  constructor(
    readonly flag: string,
    /** The message without the flag. */
    readonly detail: string,
  ) {
    super(`${flag}: ${detail}`);
  }
}
