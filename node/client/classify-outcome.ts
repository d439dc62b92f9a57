// What one attempt's result says about the operation (Jepsen's ok / fail / info, Maelstrom's
// definite and indefinite errors: "when in doubt, indefinite is always safe"), and whether another
// attempt may still settle it. Pure: RaftClient's retry loop acts on the answer.
import type { Json } from "../../plugins/api.js";
import { DEFINITELY_NOT_APPLIED, type ClientResponse, type ErrorCode, type LeaderHint } from "../protocol/client-protocol.js";
import { AbortedError, ClientError, type ClientErrorCode } from "./errors.js";

export type AttemptOutcome =
  /** The operation took effect (or the request was answered: status, membership). */
  | { type: "ok"; value: Json }
  /**
   * `fail`: this attempt surely did not apply the operation. `info`: it may have.
   * `retry`: another attempt may settle the operation (for `info`, only where re-sending cannot
   * apply it twice: reads and session commands). `leader`: where the node says to go next.
   */
  | { type: "fail" | "info"; code: ErrorCode | ClientErrorCode; retry: boolean; leader?: LeaderHint };

/**
 * Per error code the node answers, whether another attempt may help. Typed over every code, so a
 * new one must be classified here; definite or not comes from the protocol (DEFINITELY_NOT_APPLIED).
 */
const RETRY_AFTER: Readonly<Record<ErrorCode, boolean>> = {
  NOT_LEADER: true, // another node, the hinted leader first
  UNAVAILABLE: true, // no quorum or overloaded: another node, or the same one after a back-off
  BAD_REQUEST: false, // the operation itself is refused: every attempt would be
  SESSION_EXPIRED: false, // the next command opens a new session
  TIMEOUT: true,
  LEADERSHIP_LOST: true,
  SHUTTING_DOWN: true,
  UNAUTHENTICATED: false, // the credential is wrong: every attempt would be refused
  PLUGIN_FAILED: false, // every replica answers the same: the command's effect is the plugin's error
};

/** Classifies a node's response, or the ClientError an attempt ended with (its `sent` decides). */
export function classifyOutcome(result: ClientResponse | ClientError): AttemptOutcome {
  if (result instanceof ClientError) {
    const type = result.sent ? "info" : "fail";
    // Aborted by the caller or closed: nothing more to try. Otherwise another node may answer.
    const retry = !(result instanceof AbortedError || result.code === "ABORTED" || result.code === "CLIENT_CLOSED");
    return { type, code: result.code, retry };
  }
  if (result.ok) {
    return { type: "ok", value: "result" in result ? result.result : (result.status as unknown as Json) };
  }
  const leader = result.leader === undefined ? {} : { leader: result.leader };
  if (!Object.hasOwn(RETRY_AFTER, result.code)) {
    // A code this client does not know (a newer node): assume the worst, and stop.
    return { type: "info", code: result.code, retry: false, ...leader };
  }
  return { type: DEFINITELY_NOT_APPLIED.has(result.code) ? "fail" : "info", code: result.code, retry: RETRY_AFTER[result.code], ...leader };
}
