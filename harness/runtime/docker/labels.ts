// Labels on every Docker object raftlab creates; `raftlab clean` finds leftovers by them.

/** On containers, networks and volumes: the run id. */
export const runLabel = "raftlab.run";
/** On containers and volumes: the node id. */
export const nodeLabel = "raftlab.node";
