import { describe, expect, it } from "vitest";
import { placeNodes } from "./placement.js";

const place = (request: Parameters<typeof placeNodes>[0]): string[] => [...placeNodes(request)].map(([id, host]) => `${id}@${host}`);

describe("placing nodes on swarm hosts", () => {
  it("spreads nodes over the hosts in name order by default", () => {
    expect(place({ nodeIds: [1, 2, 3, 4, 5], available: ["c", "a", "b"] })).toEqual(["1@a", "2@b", "3@c", "4@a", "5@b"]);
  });

  it("fills each host with nodes_per_host nodes before the next", () => {
    expect(place({ nodeIds: [1, 2, 3, 4, 5], available: ["a", "b", "c"], nodesPerHost: 2 })).toEqual(["1@a", "2@a", "3@b", "4@b", "5@c"]);
  });

  it("follows an explicit host list, in its order, a repeated name holding several nodes", () => {
    expect(place({ nodeIds: [1, 2, 3], available: ["a", "b", "c"], hosts: ["c", "c", "a"] })).toEqual(["1@c", "2@c", "3@a"]);
  });

  it("refuses a host the swarm does not have, listing the usable ones", () => {
    expect(() => place({ nodeIds: [1], available: ["a", "b"], hosts: ["a", "x"] })).toThrow(
      "SWARM_PLACEMENT: swarm.hosts names x, which is not a ready, active swarm node; usable: a, b (see `docker node ls`)",
    );
  });

  it("refuses nodes_per_host too small for the nodes", () => {
    expect(() => place({ nodeIds: [1, 2, 3], available: ["a"], nodesPerHost: 2 })).toThrow(
      "SWARM_PLACEMENT: swarm.nodes_per_host: 2 node(s) on each of 1 host(s) (a) cannot hold 3 nodes",
    );
  });

  it("refuses a swarm with no usable node", () => {
    expect(() => place({ nodeIds: [1], available: [] })).toThrow(/no ready, active node/);
  });
});
