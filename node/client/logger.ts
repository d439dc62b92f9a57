// The client's optional logger: structured, so the harness can route it to its JSON-lines log.
export interface ClientLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: ClientLogger = {
  debug: () => undefined,
  warn: () => undefined,
};
