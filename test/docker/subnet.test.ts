import { describe, expect, test } from "vitest";
import { cidrsOverlap, freeSubnets, parseCidr, subnetAddresses } from "../../harness/runtime/docker/subnet.js";

describe("picking a subnet for a run's network", () => {
  test("skips every /24 that an existing network or interface overlaps, including wider ranges", () => {
    const used = ["172.17.0.0/16", "10.213.5.0/24", "10.213.6.128/25", "10.213.8.0/23", "fe80::/64", "10.213.3.7/32"];
    expect(freeSubnets(used, 3).slice(0, 4)).toEqual(["10.213.4.0/24", "10.213.7.0/24", "10.213.10.0/24", "10.213.11.0/24"]);
  });

  test("wraps around the range from the start offset", () => {
    expect(freeSubnets([], 255).slice(0, 2)).toEqual(["10.213.255.0/24", "10.213.0.0/24"]);
  });

  test("a range that covers all of raftlab's /16 leaves nothing", () => {
    expect(freeSubnets(["10.0.0.0/8"], 0)).toEqual([]);
  });

  test("overlap is symmetric and exact at the edges", () => {
    const a = parseCidr("10.213.1.0/24");
    const b = parseCidr("10.213.2.0/24");
    const wide = parseCidr("10.213.0.0/22");
    expect(a && b && wide).toBeTruthy();
    if (a && b && wide) {
      expect([cidrsOverlap(a, b), cidrsOverlap(b, a), cidrsOverlap(a, wide), cidrsOverlap(wide, b)]).toEqual([false, false, true, true]);
    }
    expect(parseCidr("10.213.1.77/24")).toEqual(parseCidr("10.213.1.0/24"));
    expect(parseCidr("300.1.1.1/24")).toBeUndefined();
  });

  test("the gateway is .1 and node n sits at .(10 + n)", () => {
    const addresses = subnetAddresses("10.213.42.0/24");
    expect([addresses.gateway, addresses.nodeAddress(1), addresses.nodeAddress(3)]).toEqual(["10.213.42.1", "10.213.42.11", "10.213.42.13"]);
    expect(() => addresses.nodeAddress(0)).toThrow(/node id 0/);
  });
});
