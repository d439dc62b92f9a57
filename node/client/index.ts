// The client library's public surface.
export {
  RaftClient,
  type RaftClientOptions,
  type ClientNodeAddress,
  type ClientOutcome,
  type Outcome,
  type OutcomeError,
  type InvokeOptions,
} from "./raft-client.js";
export { ClientError, NodeRejectedError, AbortedError, type ClientErrorCode } from "./errors.js";
export { type Logger, silentLogger } from "../../lib/logger.js";
