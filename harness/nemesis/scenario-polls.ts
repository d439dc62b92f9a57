// What scripted fault sequences (double-vote.ts, figure-eight.ts) ask of the cluster between their
// steps: one node's status, and the first of some nodes to lead. A node that is down or does not
// answer counts as no leader; the client port is never partitioned, so a cut-off node still answers.
import { setTimeout as sleep } from "node:timers/promises";
import type { NodeStatus } from "../../node/protocol/client-protocol.js";
import type { NemesisContext } from "./nemesis.js";

const statusTimeoutMs = 500;

export async function nodeStatus(context: NemesisContext, node: number, signal?: AbortSignal): Promise<NodeStatus | undefined> {
  try {
    return await context.client.status(node, { timeoutMs: statusTimeoutMs, ...(signal === undefined ? {} : { signal }) });
  } catch {
    return undefined;
  }
}

/** The first of `nodes` seen as leader, polled every pollMs; undefined after waitMs. */
export async function waitForLeader(
  context: NemesisContext,
  nodes: readonly number[],
  timing: { waitMs: number; pollMs: number },
  signal?: AbortSignal,
): Promise<NodeStatus | undefined> {
  const deadline = Date.now() + timing.waitMs;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    for (const node of nodes) {
      const status = await nodeStatus(context, node, signal);
      if (status?.role === "leader") {
        return status;
      }
    }
    await sleep(timing.pollMs, undefined, signal === undefined ? {} : { signal });
  }
  return undefined;
}

/** Polls one node until `until` holds for its status; the last status seen (or undefined) after waitMs. */
export async function waitForStatus(
  context: NemesisContext,
  node: number,
  until: (status: NodeStatus) => boolean,
  timing: { waitMs: number; pollMs: number },
  signal?: AbortSignal,
): Promise<NodeStatus | undefined> {
  const deadline = Date.now() + timing.waitMs;
  let last: NodeStatus | undefined;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    last = (await nodeStatus(context, node, signal)) ?? last;
    if (last !== undefined && until(last)) {
      return last;
    }
    await sleep(timing.pollMs, undefined, signal === undefined ? {} : { signal });
  }
  return last;
}
