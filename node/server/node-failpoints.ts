// The node's side of failpoints: the registry with a logged panic, the control request, and the
// beforeSendToFollower point on the way out to the transport (which cannot wait, so a sleep
// delays the batch and an error drops it, as a failed send would).
import type { ClientResponse } from "../protocol/client-protocol.js";
import type { FailpointName } from "../protocol/failpoints.js";
import { describeFailpointAction, parseFailpointAction } from "../protocol/failpoints.js";
import type { Message } from "../raft/messages.js";
import type { PeerTransport } from "../driver/ports.js";
import { Failpoints } from "./failpoints.js";
import type { Logger } from "../../lib/logger.js";

export function createNodeFailpoints(logger: Logger): Failpoints {
  return new Failpoints({
    panic: (name) => {
      logger.error("failpoint panic: the process ends now", { failpoint: name });
      process.exit(3);
    },
    onHit: (name, action) => logger.debug("failpoint hit", { failpoint: name, action: describeFailpointAction(action) }),
  });
}

export function setFailpoint(failpoints: Failpoints | undefined, logger: Logger, request: { id: number; name: FailpointName; action: string }): ClientResponse {
  if (failpoints === undefined) {
    return { id: request.id, ok: false, code: "BAD_REQUEST", message: "failpoints are disabled on this node (start it with --failpoints)" };
  }
  const action = parseFailpointAction(request.action);
  if (action === undefined) {
    return { id: request.id, ok: false, code: "BAD_REQUEST", message: `failpoint action "${request.action}": expected sleep(<ms>ms), panic, error or off` };
  }
  failpoints.set(request.name, action);
  logger.info("failpoint set", { failpoint: request.name, action: describeFailpointAction(action) });
  return { id: request.id, ok: true, result: failpoints.list() };
}

/** The transport, with the beforeSendToFollower failpoint on its way when failpoints are on. */
export function failpointTransport(failpoints: Failpoints | undefined, transport: Required<PeerTransport>): Required<PeerTransport> {
  if (failpoints === undefined) {
    return transport;
  }
  return { send: (messages) => sendThroughFailpoint(failpoints, messages, (batch) => transport.send(batch)), flush: () => transport.flush() };
}

function sendThroughFailpoint(failpoints: Failpoints, messages: readonly Message[], send: (messages: readonly Message[]) => void): void {
  const toFollowers = messages.filter((message) => message.type === "app" || message.type === "snap" || message.type === "heartbeat");
  const action = toFollowers.length === 0 ? undefined : failpoints.action("beforeSendToFollower");
  if (action === undefined) {
    send(messages);
    return;
  }
  const others = messages.filter((message) => !toFollowers.includes(message));
  send(others);
  if (action.kind === "sleep") {
    setTimeout(() => send(toFollowers), action.ms);
  }
}
