// Every error code raftlab uses, in one place. The scheme: a code names the condition in
// SCREAMING_SNAKE_CASE, without a prefix (the error's class says which part of raftlab raised it);
// codes are stable, since histories, summaries, scripts and third-party plugins match on them.
// lib/error-codes.test.ts fails when a code in the sources is missing here. README: "Error codes".

export interface ErrorCodeEntry {
  /** The class (or wire field) that carries the code. */
  readonly raisedBy: string;
  readonly meaning: string;
}

export const ERROR_CODES: Readonly<Record<string, ErrorCodeEntry>> = {
  // lib/
  INVARIANT_VIOLATED: { raisedBy: "InvariantError", meaning: "a broken invariant: a bug, never caught to carry on" },
  DEADLINE: { raisedBy: "DeadlineError", meaning: "a deadline passed (the reason a deadline signal aborts with)" },
  TRUNCATED: { raisedBy: "CodecError", meaning: "a binary record or frame ends early" },
  UNKNOWN_TYPE: { raisedBy: "CodecError", meaning: "a binary record has a type tag this version does not know" },
  BAD_VALUE: { raisedBy: "CodecError", meaning: "a binary field holds a value outside its range" },
  TRAILING_BYTES: { raisedBy: "CodecError", meaning: "bytes follow the end of a binary record" },
  BAD_VERSION: { raisedBy: "CodecError", meaning: "a binary record or handshake has another version or magic" },
  // plugins/ (thrown by plugins, third-party ones too)
  UNKNOWN_OPERATION: { raisedBy: "PluginError", meaning: "the state machine has no such operation" },
  BAD_ARGUMENT: { raisedBy: "PluginError", meaning: "the operation's argument is invalid" },
  BAD_SNAPSHOT: { raisedBy: "PluginError", meaning: "a snapshot cannot be restored" },
  BAD_PLUGIN: { raisedBy: "PluginError", meaning: "a plugin module breaks the plugin contract" },
  // node/protocol: answers on the client port (`code` of an error response)
  NOT_LEADER: { raisedBy: "ClientResponse", meaning: "not the leader; nothing was proposed (definite)" },
  BAD_REQUEST: { raisedBy: "ClientResponse", meaning: "malformed request or refused operation (definite)" },
  TIMEOUT: { raisedBy: "ClientResponse", meaning: "proposed, not known committed in time (indefinite)" },
  LEADERSHIP_LOST: { raisedBy: "ClientResponse", meaning: "leadership lost after proposing (indefinite)" },
  UNAVAILABLE: { raisedBy: "ClientResponse", meaning: "no quorum or overloaded; nothing was proposed (definite)" },
  SESSION_EXPIRED: { raisedBy: "ClientResponse", meaning: "the command's session is not held by the nodes (definite)" },
  SHUTTING_DOWN: { raisedBy: "ClientResponse", meaning: "the node is stopping (indefinite)" },
  PLUGIN_FAILED: { raisedBy: "ClientResponse", meaning: "the plugin broke its contract on this command; every replica answers the same (indefinite)" },
  UNAUTHENTICATED: { raisedBy: "ClientResponse", meaning: "an admin request on a connection without the cluster secret (definite)" },
  // node/raft
  PROPOSAL_DROPPED: { raisedBy: "ProposalDroppedError", meaning: "the core refused a proposal, conf change or transfer" },
  RAFT_STEP_LOCAL_MESSAGE: { raisedBy: "StepLocalMessageError", meaning: "step() was given a message type only the core creates" },
  // node/server
  FAILPOINT: { raisedBy: "FailpointError", meaning: "an armed failpoint with action error fired (only with --failpoints, under test)" },
  BAD_FLAG: { raisedBy: "ConfigError", meaning: "a node flag or config file field is invalid (exit 254)" },
  BAD_SESSION_TABLE: { raisedBy: "SessionTableError", meaning: "the session table in a snapshot cannot be decoded" },
  BAD_ENVELOPE: { raisedBy: "EnvelopeError", meaning: "a log entry's command envelope cannot be decoded" },
  BAD_SNAPSHOT_DATA: { raisedBy: "SnapshotDataError", meaning: "a snapshot's replicated state cannot be decoded" },
  PLUGIN_CONTRACT: { raisedBy: "PluginContractError", meaning: "a plugin broke its contract in a way the node cannot work around" },
  RECOVERY_FAILED: { raisedBy: "RecoveryError", meaning: "the data directory cannot be recovered" },
  CORRUPT_WAL: { raisedBy: "StorageError", meaning: "damage in the middle of the WAL (file and offset named)" },
  WAL_FAILED: { raisedBy: "StorageError", meaning: "a WAL write or fsync failed" },
  WAL_CLOSED: { raisedBy: "StorageError", meaning: "the WAL was used after close" },
  NOT_A_DATA_DIRECTORY: { raisedBy: "NotADataDirectoryError", meaning: "`raftlab wal dump` was given a path that is not a node data directory" },
  SNAPSHOT_SAVE_FAILED: { raisedBy: "StorageError", meaning: "a snapshot could not be written durably" },
  BAD_CHECKSUM: { raisedBy: "FrameError", meaning: "a frame's CRC-32C does not match" },
  FRAME_TOO_LARGE: { raisedBy: "FrameError", meaning: "a frame's length is above the limit" },
  TRUNCATED_FRAME: { raisedBy: "FrameError", meaning: "a stream ended inside a frame" },
  DECODER_FAILED: { raisedBy: "FrameError", meaning: "the frame decoder was used after an error" },
  // node/client
  CONNECTION_FAILED: { raisedBy: "ClientError", meaning: "could not connect; nothing was sent" },
  CONNECTION_LOST: { raisedBy: "ClientError", meaning: "the connection broke with a request outstanding" },
  REQUEST_TIMEOUT: { raisedBy: "ClientError", meaning: "no response within the attempt's limit" },
  BAD_RESPONSE: { raisedBy: "ClientError", meaning: "the node's reply is not a well-formed response" },
  NO_LEADER: { raisedBy: "ClientError, NemesisError", meaning: "no leader answered before the deadline" },
  ABORTED: { raisedBy: "ClientError", meaning: "the caller's AbortSignal fired" },
  CLIENT_CLOSED: { raisedBy: "ClientError", meaning: "the client was closed" },
  UNKNOWN_NODE: { raisedBy: "ClientError, LocalRuntimeError", meaning: "a node id that is not in the cluster" },
  // node/sim
  SIM_USAGE: { raisedBy: "CliUsageError (node/sim)", meaning: "bad `npm run sim` arguments" },
  SIM_INVARIANT_VIOLATED: { raisedBy: "InvariantViolation", meaning: "the simulator found a Raft safety property broken" },
  // history/ and checker/
  HISTORY_UNREADABLE: { raisedBy: "HistoryError", meaning: "the history file cannot be read" },
  HISTORY_BAD_JSON: { raisedBy: "HistoryError", meaning: "a line is not JSON" },
  HISTORY_BAD_ENCODING: { raisedBy: "HistoryError", meaning: "the file is not UTF-8" },
  HISTORY_BAD_FIELD: { raisedBy: "HistoryError", meaning: "a field is missing or has the wrong type" },
  HISTORY_TIME_DECREASING: { raisedBy: "HistoryError", meaning: "times go backwards" },
  HISTORY_UNMATCHED_COMPLETION: { raisedBy: "HistoryError", meaning: "a completion without an open call" },
  HISTORY_OVERLAPPING_INVOKE: { raisedBy: "HistoryError", meaning: "a process invokes with an operation open" },
  HISTORY_INVOKE_AFTER_INFO: { raisedBy: "HistoryError", meaning: "a process invokes again after an info" },
  CHECK_UNPARTITIONABLE: { raisedBy: "UnpartitionableOperationError", meaning: "an operation the model cannot assign to a partition" },
  CHECK_USAGE: { raisedBy: "UsageError (cli/check)", meaning: "bad `raftlab check` arguments (exit 254)" },
  // harness/
  WORKLOAD_INVALID: { raisedBy: "WorkloadFileError", meaning: "a workload file is invalid (file, line and field named; exit 254)" },
  FAULT_UNSUPPORTED: { raisedBy: "FaultUnsupportedError", meaning: "a fault this runtime cannot inject here (exit 254)" },
  CLUSTER_UNAVAILABLE: { raisedBy: "ClusterUnavailableError", meaning: "the cluster never elected a leader" },
  FAULT_PROXY: { raisedBy: "FaultProxyError", meaning: "a local fault proxy could not start" },
  NOT_BUILT: { raisedBy: "LocalRuntimeError", meaning: "dist/ is missing: run `npm run build`" },
  NODE_START_FAILED: { raisedBy: "LocalRuntimeError", meaning: "a local node did not start" },
  CLUSTER_DESTROYED: { raisedBy: "LocalRuntimeError", meaning: "the cluster was used after destroy()" },
  EXEC_FAILED: { raisedBy: "LocalRuntimeError", meaning: "a command on a local node could not run" },
  CLUSTER_TOO_SMALL: { raisedBy: "NemesisError", meaning: "the fault needs more nodes or voters than the cluster has" },
  CLUSTER_SIZE: { raisedBy: "NemesisError", meaning: "a scripted fault (double-vote, figure-8) is written for another cluster size" },
  REQUEST_FAILED: { raisedBy: "NemesisError", meaning: "a fault's request to the cluster (membership, transfer) failed" },
  UNKNOWN_FAULT: { raisedBy: "NemesisError", meaning: "no fault of that name" },
  DOCKER_UNAVAILABLE: { raisedBy: "DockerRuntimeError", meaning: "the Docker daemon does not answer" },
  DOCKER_IMAGE_FAILED: { raisedBy: "DockerRuntimeError", meaning: "the node image could not be built or imported" },
  DOCKER_NO_SUBNET: { raisedBy: "DockerRuntimeError", meaning: "no free subnet for the run's network" },
  DOCKER_NODE_NOT_READY: { raisedBy: "DockerRuntimeError", meaning: "a node container did not open its client port in time" },
  DOCKER_EXEC_FAILED: { raisedBy: "DockerRuntimeError", meaning: "a command in a node container failed" },
  DOCKER_BAD_SPEC: { raisedBy: "DockerRuntimeError", meaning: "an invalid cluster spec or fault parameter" },
  SWARM_NOT_MANAGER: { raisedBy: "SwarmRuntimeError", meaning: "the Docker endpoint is not a swarm manager" },
  SWARM_HOST_UNREACHABLE: { raisedBy: "SwarmRuntimeError", meaning: "a swarm host's Docker API does not answer" },
  SWARM_API_TOO_OLD: { raisedBy: "SwarmRuntimeError", meaning: "a swarm host's Docker API is too old" },
  SWARM_PLACEMENT: { raisedBy: "SwarmRuntimeError", meaning: "nodes cannot be placed on the swarm's hosts" },
  SWARM_IMAGE: { raisedBy: "SwarmRuntimeError", meaning: "the node image cannot reach a swarm host" },
  SWARM_TASK_FAILED: { raisedBy: "SwarmRuntimeError", meaning: "a node's swarm task failed" },
};
