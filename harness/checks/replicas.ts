// The `replicas` check: at the end of a run, once every fault is healed and the clients have
// stopped, every voter is asked for a SHA-256 of its state machine (the plugin's snapshot() bytes)
// at one common applied index. Equal hashes: valid. Different hashes: the replicas diverged, which
// a nondeterministic plugin (or a Raft bug) causes even when every read looked linearizable.
// A node that cannot answer makes the verdict unknown, naming the node and why.
import type { RaftClient } from "../../node/client/raft-client.js";
import type { NodeStatus, StateHash } from "../../node/protocol/client-protocol.js";
import type { CheckReport, Validity } from "./check-report.js";

/** One node's answer: its hash at `applied`, or why it gave none. */
export interface ReplicaState {
  node: number;
  applied: number | null;
  sha256: string | null;
  bytes: number | null;
  /** Why the node gave no hash (unreachable, timed out, not a voter...). */
  error?: string;
}

export interface ReplicasReport extends CheckReport {
  /** The applied index every hash was taken at; null when the nodes never reached a common one. */
  index: number | null;
  replicas: ReplicaState[];
  /** One sentence: agreement, "replicas diverged at index I: n1 abc..., n3 def...", or what was missing. */
  reason: string;
}

/** Rounds of asking: when the nodes answer at different indexes, ask again at the highest one. */
const ROUNDS_MAX = 3;
/** How much of a hash a message shows. */
const HASH_PREFIX_CHARS = 12;

export interface CollectOptions {
  client: Pick<RaftClient, "status" | "stateHash">;
  nodeIds: readonly number[];
  /** Limit of each request (status, then each stateHash round). */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Asks every voter for its state hash at a common applied index and judges the answers. */
export async function checkReplicas(options: CollectOptions): Promise<ReplicasReport> {
  const { client, timeoutMs, signal } = options;
  const statuses = await Promise.allSettled(options.nodeIds.map((id) => client.status(id, { timeoutMs, ...(signal === undefined ? {} : { signal }) })));
  const answered = statuses.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const leader = leaderOf(answered);
  // Nodes removed by a membership fault and never re-added apply nothing more: skip them.
  const voters = leader === undefined ? options.nodeIds : options.nodeIds.filter((id) => leader.voters.includes(id));
  let target = Math.max(0, ...answered.map((status) => status.commit));
  let states: ReplicaState[] = [];
  for (let round = 0; round < ROUNDS_MAX; round += 1) {
    states = await Promise.all(voters.map(async (node) => askHash(client, node, target, timeoutMs, signal)));
    const indexes = new Set(states.map((state) => state.applied));
    if (states.some((state) => state.error !== undefined) || indexes.size === 1) {
      break;
    }
    target = Math.max(...states.map((state) => state.applied ?? 0));
  }
  const skipped: ReplicaState[] = options.nodeIds
    .filter((id) => !voters.includes(id))
    .map((node) => ({ node, applied: null, sha256: null, bytes: null, error: `not a voter of leader ${leader?.nodeId ?? "?"}; not compared` }));
  const report = judgeReplicas(states);
  return { ...report, replicas: [...states, ...skipped].sort((a, b) => a.node - b.node) };
}

async function askHash(
  client: CollectOptions["client"],
  node: number,
  atLeast: number,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<ReplicaState> {
  try {
    const hash: StateHash = await client.stateHash(node, atLeast, { timeoutMs, ...(signal === undefined ? {} : { signal }) });
    return { node, applied: hash.applied, sha256: hash.sha256, bytes: hash.bytes };
  } catch (error) {
    return { node, applied: null, sha256: null, bytes: null, error: error instanceof Error ? error.message : String(error) };
  }
}

function leaderOf(statuses: readonly NodeStatus[]): NodeStatus | undefined {
  let best: NodeStatus | undefined;
  for (const status of statuses) {
    if (status.role === "leader" && (best === undefined || status.term > best.term)) {
      best = status;
    }
  }
  return best;
}

/** The verdict on hashes already collected (pure, so tests can drive it without a cluster). */
export function judgeReplicas(states: readonly ReplicaState[]): ReplicasReport {
  const replicas = [...states];
  const missing = states.filter((state) => state.error !== undefined || state.sha256 === null);
  if (states.length === 0) {
    return { valid: "unknown", index: null, replicas, reason: "no node to compare" };
  }
  if (missing.length > 0) {
    const reasons = missing.map((state) => `n${state.node}: ${state.error ?? "no hash"}`).join("; ");
    return { valid: "unknown", index: null, replicas, reason: `could not compare replicas: ${reasons}` };
  }
  const indexes = [...new Set(states.map((state) => state.applied))];
  if (indexes.length > 1) {
    const applied = states.map((state) => `n${state.node} at ${state.applied}`).join(", ");
    return { valid: "unknown", index: null, replicas, reason: `replicas never reached a common applied index in ${ROUNDS_MAX} rounds: ${applied}` };
  }
  const index = indexes[0] ?? null;
  const hashes = new Set(states.map((state) => state.sha256));
  const valid: Validity = hashes.size === 1;
  if (valid) {
    return { valid, index, replicas, reason: `${states.length} replicas agree at index ${index}: sha256 ${short(states[0]?.sha256 ?? null)}...` };
  }
  const listed = states.map((state) => `n${state.node} ${short(state.sha256)}...`).join(", ");
  return {
    valid,
    index,
    replicas,
    reason:
      `replicas diverged at index ${index}: ${listed} ` +
      "(same applied index, different state: a nondeterministic plugin apply(), a snapshot() that is not canonical, or a Raft bug)",
  };
}

function short(hash: string | null): string {
  return (hash ?? "").slice(0, HASH_PREFIX_CHARS);
}
