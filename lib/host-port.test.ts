import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { formatHostPort, HostPortError, isHostPort, parseHostPort } from "./host-port.js";

describe("parseHostPort", () => {
  test.each([
    ["127.0.0.1:7000", "127.0.0.1", 7000],
    ["localhost:1", "localhost", 1],
    ["raftlab-n1:65535", "raftlab-n1", 65535],
    ["[::1]:7000", "::1", 7000],
    ["[fe80::1:2]:8001", "fe80::1:2", 8001],
    ["[::ffff:10.0.0.1]:80", "::ffff:10.0.0.1", 80],
  ])("accepts %s", (input, host, port) => {
    expect(parseHostPort(input)).toEqual({ host, port });
    expect(isHostPort(input)).toBe(true);
  });

  test.each([
    ["localhost", '"localhost" is not HOST:PORT'],
    ["", '"" is not HOST:PORT'],
    [":7000", '":7000" is not HOST:PORT'],
    ["host:", '"host:" is not HOST:PORT'],
    ["host:-1", '"host:-1" is not HOST:PORT'],
    ["host:7e3", '"host:7e3" is not HOST:PORT'],
    ["host: 7000", '"host: 7000" is not HOST:PORT'],
    ["my host:7000", '"my host:7000" is not HOST:PORT'],
    ["[localhost]:7000", '"[localhost]:7000" is not HOST:PORT'],
    ["[::1]", '"[::1]" is not HOST:PORT'],
    ["::1:7000", '"::1:7000" is not HOST:PORT (write an IPv6 host in brackets: [::1]:7000)'],
    ["127.0.0.1:65536", 'port 65536 in "127.0.0.1:65536" is above 65535'],
    ["127.0.0.1:99999", 'port 99999 in "127.0.0.1:99999" is above 65535'],
    ["127.0.0.1:123456789012345678901", 'port 123456789012345678901 in "127.0.0.1:123456789012345678901" is above 65535'],
    ["127.0.0.1:0", 'port 0 in "127.0.0.1:0" can only be listened on: give a port in 1..65535'],
  ])("rejects %j naming the input", (input, message) => {
    const error = catchError(() => parseHostPort(input));
    expect(error).toBeInstanceOf(HostPortError);
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(message);
    expect((error as HostPortError).input).toBe(input);
    expect(isHostPort(input)).toBe(false);
  });

  test("port 0 only for an address to listen on", () => {
    expect(parseHostPort("127.0.0.1:0", { listen: true })).toEqual({ host: "127.0.0.1", port: 0 });
    expect(parseHostPort("[::]:0", { listen: true })).toEqual({ host: "::", port: 0 });
    expect(isHostPort("0.0.0.0:0", { listen: true })).toBe(true);
    expect(() => parseHostPort("127.0.0.1:99999", { listen: true })).toThrow(/above 65535/);
  });

  test("formatHostPort is its inverse, bracketing IPv6 hosts", () => {
    expect(formatHostPort("::1", 7000)).toBe("[::1]:7000");
    expect(formatHostPort("10.0.0.2", 8001)).toBe("10.0.0.2:8001");
    const host = fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6());
    fc.assert(
      fc.property(host, fc.integer({ min: 1, max: 65535 }), (name, port) => {
        expect(parseHostPort(formatHostPort(name, port))).toEqual({ host: name, port });
      }),
    );
  });
});

function catchError(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a throw");
}
