// Operating errors of the Docker runtime. Each message names the container, network, image or
// host file at fault so that a user can inspect it with the docker CLI.

import { CodedError } from "../../lib/coded-error.js";

export type DockerRuntimeErrorCode =
  /** The Docker daemon does not answer (not running, or no permission on its socket). */
  | "DOCKER_UNAVAILABLE"
  /** Assembling or importing the node image failed (missing host binary, ldd, tar, import). */
  | "DOCKER_IMAGE_FAILED"
  /** No free /24 was left in the address range reserved for raftlab networks. */
  | "DOCKER_NO_SUBNET"
  /** A node container exited, or its client port did not open in time. */
  | "DOCKER_NODE_NOT_READY"
  /** A command run inside a container (iptables, tc) failed. */
  | "DOCKER_EXEC_FAILED"
  /** The cluster spec cannot be mapped onto Docker objects (bad run id, node id out of range). */
  | "DOCKER_BAD_SPEC";

export class DockerRuntimeError extends CodedError<DockerRuntimeErrorCode> {
  override readonly name = "DockerRuntimeError";
}
