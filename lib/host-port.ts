// HOST:PORT addresses: the one set of rules for every flag, config field, request and dialer.
// A host is a name or IPv4 address without colons, or an IPv6 address in brackets ([::1]:7000);
// the port is decimal, 1..65535, and 0 only where the address is one to listen on (the OS picks).

export interface HostPort {
  /** Without brackets, as net.connect and server.listen want it ("::1", not "[::1]"). */
  host: string;
  port: number;
}

/** An address that breaks the rules above; the message quotes the input. */
export class HostPortError extends RangeError {
  override readonly name = "HostPortError";
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ParseHostPortOptions {
  /** Accept port 0 ("any free port"): true only for addresses to listen on. Default false. */
  listen?: boolean;
}

const ADDRESS = /^(?:\[([0-9a-fA-F:.]*:[0-9a-fA-F:.]*)\]|([^:\s[\]]+)):(\d+)$/;
const PORT_MAX = 65535;

/** Parses "host:port" or "[v6]:port"; throws HostPortError naming the input otherwise. */
export function parseHostPort(input: string, options: ParseHostPortOptions = {}): HostPort {
  const match = ADDRESS.exec(input);
  if (match === null) {
    const hint = /^[^[]*:.*:/.test(input) ? " (write an IPv6 host in brackets: [::1]:7000)" : "";
    throw new HostPortError(input, `"${input}" is not HOST:PORT${hint}`);
  }
  const host = match[1] ?? match[2]!;
  const digits = match[3]!;
  const port = digits.length > 5 ? Number.POSITIVE_INFINITY : Number(digits);
  if (port > PORT_MAX) {
    throw new HostPortError(input, `port ${digits} in "${input}" is above ${PORT_MAX}`);
  }
  if (port === 0 && options.listen !== true) {
    throw new HostPortError(input, `port 0 in "${input}" can only be listened on: give a port in 1..${PORT_MAX}`);
  }
  return { host, port };
}

/** True when parseHostPort(input, options) would succeed. */
export function isHostPort(input: string, options: ParseHostPortOptions = {}): boolean {
  try {
    parseHostPort(input, options);
    return true;
  } catch (error) {
    if (error instanceof HostPortError) {
      return false;
    }
    throw error;
  }
}

/** The inverse of parseHostPort: brackets an IPv6 host. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
