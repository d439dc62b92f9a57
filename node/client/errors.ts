// Errors raised by the client library. Each has a stable `code`. `sent` says whether the request's
// bytes may have reached the node: it is what separates "definitely not applied" from "unknown".
import type { ErrorCode } from "../protocol/client-protocol.js";

export type ClientErrorCode =
  /** The TCP connection could not be opened (refused, unreachable, connect timeout): nothing was sent. */
  | "CONNECTION_FAILED"
  /** The connection closed or broke while a request was outstanding: it may have been applied. */
  | "CONNECTION_LOST"
  /** No response within the attempt's time limit: it may have been applied. */
  | "REQUEST_TIMEOUT"
  /** The node's reply was not a well-formed response frame. */
  | "BAD_RESPONSE"
  /** No leader answered before the deadline, and nothing was possibly applied. */
  | "NO_LEADER"
  /** The caller's AbortSignal fired. */
  | "ABORTED"
  /** The client was closed. */
  | "CLIENT_CLOSED"
  /** The request named a node id the client does not know. */
  | "UNKNOWN_NODE";

export class ClientError extends Error {
  override readonly name: string = "ClientError";
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    /** Whether the request may have reached the node (then its effect is unknown). */
    readonly sent: boolean,
  ) {
    super(`${code}: ${message}`);
  }
}

/** A node answered with `ok: false`. */
export class NodeRejectedError extends Error {
  override readonly name: string = "NodeRejectedError";
  constructor(
    readonly code: ErrorCode,
    readonly nodeId: number,
    readonly detail: string,
  ) {
    super(`${code} from node ${nodeId}: ${detail}`);
  }
}

export class AbortedError extends ClientError {
  override readonly name: string = "AbortedError";
  constructor(what: string, sent: boolean) {
    super("ABORTED", `${what} was aborted`, sent);
  }
}
