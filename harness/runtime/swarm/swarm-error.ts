// Operating errors of the swarm runtime. A refusal (the swarm or a host is not fit for a run) is
// found before anything is created and is the user's to fix: the run command exits 254 on it.

import { CodedError } from "../../../lib/coded-error.js";

export type SwarmRuntimeErrorCode =
  /** The Docker daemon raftlab talks to is in no swarm, or only a worker. */
  | "SWARM_NOT_MANAGER"
  /** A host's Docker API does not answer, answers as another swarm node, or has no endpoint. */
  | "SWARM_HOST_UNREACHABLE"
  /** A daemon too old for services with NET_ADMIN (cap_add needs API 1.41, Docker 20.10). */
  | "SWARM_API_TOO_OLD"
  /** The workload's placement does not fit the swarm (unknown host, too few hosts). */
  | "SWARM_PLACEMENT"
  /** Getting the node image onto a host failed (pull, or save and load). */
  | "SWARM_IMAGE"
  /** A node's task did not start, or a Docker call during the run failed. */
  | "SWARM_TASK_FAILED";

const refusals: ReadonlySet<SwarmRuntimeErrorCode> = new Set(["SWARM_NOT_MANAGER", "SWARM_HOST_UNREACHABLE", "SWARM_API_TOO_OLD", "SWARM_PLACEMENT"]);

export class SwarmRuntimeError extends CodedError<SwarmRuntimeErrorCode> {
  override readonly name = "SwarmRuntimeError";

  /** Whether the run was refused before anything was created (exit 254), not broken midway. */
  get refusal(): boolean {
    return refusals.has(this.code);
  }
}
