// Which swarm host runs which node. Pure: the runtime pins each node's service to its host with a
// placement constraint, so a node that restarts finds its volume (and its data) where it left it.
import { SwarmRuntimeError } from "./swarm-error.js";

export interface PlacementRequest {
  nodeIds: readonly number[];
  /** The usable hosts (ready, active swarm nodes), by name. */
  available: readonly string[];
  /** The workload's list (a name may repeat, to put several nodes there); default: `available`. */
  hosts?: readonly string[] | undefined;
  /** Fill each host with this many nodes before moving on; default: spread, one node per host in turn. */
  nodesPerHost?: number | undefined;
}

/** Node id -> host name. Throws a placement refusal naming the field the swarm cannot satisfy. */
export function placeNodes(request: PlacementRequest): Map<number, string> {
  const hosts = request.hosts ?? [...request.available].sort();
  const unknown = [...new Set(hosts.filter((host) => !request.available.includes(host)))];
  if (unknown.length > 0) {
    throw new SwarmRuntimeError(
      "SWARM_PLACEMENT",
      `swarm.hosts names ${unknown.join(", ")}, which ${unknown.length === 1 ? "is not a" : "are not"} ready, active swarm node${unknown.length === 1 ? "" : "s"}; ` +
        `usable: ${request.available.join(", ") || "none"} (see \`docker node ls\`)`,
    );
  }
  if (hosts.length === 0) {
    throw new SwarmRuntimeError("SWARM_PLACEMENT", "the swarm has no ready, active node to run on (see `docker node ls`)");
  }
  const placement = new Map<number, string>();
  const { nodesPerHost } = request;
  if (nodesPerHost !== undefined && nodesPerHost * hosts.length < request.nodeIds.length) {
    throw new SwarmRuntimeError(
      "SWARM_PLACEMENT",
      `swarm.nodes_per_host: ${nodesPerHost} node(s) on each of ${hosts.length} host(s) (${hosts.join(", ")}) cannot hold ${request.nodeIds.length} nodes`,
    );
  }
  request.nodeIds.forEach((id, index) => {
    const slot = nodesPerHost === undefined ? index % hosts.length : Math.floor(index / nodesPerHost);
    placement.set(id, hosts[slot]!);
  });
  return placement;
}
