// Log lines for events an outsider can repeat at will (refused connections, bad frames, failed
// handshakes): at most `linesPerWindow` lines per kind in each window, then one line saying how
// many were left out, so a flood costs a few lines a second instead of megabytes of log.
import type { LogFields, Logger } from "../../lib/logger.js";

/** Distinct kinds tracked; further ones share one entry. */
const KINDS_MAX = 64;

export interface RateLimitedLogOptions {
  logger: Logger;
  /** Lines per kind per window before suppression (default 5). */
  linesPerWindow?: number;
  /** Window length (default 10 s). */
  windowMs?: number;
  /** Clock, for tests. */
  nowMs?: () => number;
}

interface KindState {
  windowStartMs: number;
  logged: number;
  suppressed: number;
}

export class RateLimitedLog {
  readonly #logger: Logger;
  readonly #linesPerWindow: number;
  readonly #windowMs: number;
  readonly #nowMs: () => number;
  readonly #kinds = new Map<string, KindState>();

  constructor(options: RateLimitedLogOptions) {
    this.#logger = options.logger;
    this.#linesPerWindow = options.linesPerWindow ?? 5;
    this.#windowMs = options.windowMs ?? 10_000;
    this.#nowMs = options.nowMs ?? (() => performance.now());
  }

  /** Logs at warn unless this kind already filled its window; `kind` groups similar lines. */
  warn(kind: string, message: string, fields: LogFields = {}): void {
    const nowMs = this.#nowMs();
    if (!this.#kinds.has(kind) && this.#kinds.size >= KINDS_MAX) {
      kind = "(other kinds)"; // kinds come from input: keep the table bounded
    }
    let state = this.#kinds.get(kind);
    if (state === undefined || nowMs - state.windowStartMs >= this.#windowMs) {
      if (state !== undefined && state.suppressed > 0) {
        this.#logger.warn(`${state.suppressed} more lines like "${kind}" were left out`, { kind, suppressed: state.suppressed, windowMs: this.#windowMs });
      }
      state = { windowStartMs: nowMs, logged: 0, suppressed: 0 };
      this.#kinds.set(kind, state);
    }
    if (state.logged < this.#linesPerWindow) {
      state.logged += 1;
      this.#logger.warn(message, fields);
      return;
    }
    state.suppressed += 1;
  }
}
