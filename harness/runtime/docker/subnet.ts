// IPv4 address arithmetic for the per-run internal network: pick a /24 inside raftlab's range
// that overlaps no existing Docker network and no host interface.

/** raftlab's networks are /24s inside this /16 (chosen to be unlikely on developer machines). */
export const raftlabAddressRange = "10.213.0.0/16";

export interface Ipv4Cidr {
  /** The network address as an unsigned 32-bit integer. */
  base: number;
  prefixLength: number;
}

export function parseIpv4(address: string): number | undefined {
  const parts = address.split(".");
  if (parts.length !== 4) {
    return undefined;
  }
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) {
      return undefined;
    }
    value = value * 256 + Number(part);
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** Parses "a.b.c.d/n" (IPv6 and malformed text give undefined: they cannot clash with IPv4). */
export function parseCidr(text: string): Ipv4Cidr | undefined {
  const [address, prefix] = text.split("/");
  const value = address === undefined ? undefined : parseIpv4(address);
  const prefixLength = prefix === undefined ? 32 : Number(prefix);
  if (value === undefined || !Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) {
    return undefined;
  }
  const size = 2 ** (32 - prefixLength);
  return { base: value - (value % size), prefixLength };
}

export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  const aEnd = a.base + 2 ** (32 - a.prefixLength);
  const bEnd = b.base + 2 ** (32 - b.prefixLength);
  return a.base < bEnd && b.base < aEnd;
}

/**
 * Every /24 of `range` that overlaps none of `used`, starting from `startIndex` and wrapping, so
 * that concurrent runs starting at different offsets rarely race for the same subnet.
 */
export function freeSubnets(used: readonly string[], startIndex: number, range = raftlabAddressRange): string[] {
  const whole = parseCidr(range);
  if (whole === undefined || whole.prefixLength > 24) {
    throw new Error(`invariant: raftlab's address range must be an IPv4 /24 or wider, got ${range}`);
  }
  const taken = used.map(parseCidr).filter((cidr): cidr is Ipv4Cidr => cidr !== undefined);
  const count = 2 ** (24 - whole.prefixLength);
  const free: string[] = [];
  for (let offset = 0; offset < count; offset += 1) {
    const index = (((startIndex + offset) % count) + count) % count;
    const candidate: Ipv4Cidr = { base: whole.base + index * 256, prefixLength: 24 };
    if (!taken.some((cidr) => cidrsOverlap(cidr, candidate))) {
      free.push(`${formatIpv4(candidate.base)}/24`);
    }
  }
  return free;
}

/** Addresses inside a /24: the gateway (.1, where the host's traffic comes from) and node `id` at .(10 + id). */
export function subnetAddresses(subnet: string): { gateway: string; nodeAddress: (id: number) => string } {
  const cidr = parseCidr(subnet);
  if (cidr === undefined || cidr.prefixLength !== 24) {
    throw new Error(`invariant: expected an IPv4 /24, got ${subnet}`);
  }
  return {
    gateway: formatIpv4(cidr.base + 1),
    nodeAddress: (id: number): string => {
      if (!Number.isInteger(id) || id < 1 || id > nodeIdMax) {
        throw new Error(`invariant: node id ${id} must be an integer in 1..${nodeIdMax} to get an address in ${subnet}`);
      }
      return formatIpv4(cidr.base + 10 + id);
    },
  };
}

export const nodeIdMax = 240;
