// Failpoints in the spirit of etcd's gofail: named points in the node where the harness can inject
// a delay, a crash or an error at run time. A node opens its failpoint control only when started
// with --failpoints (never by default); the client port's `failpoint` request arms and disarms them.
export const FAILPOINT_NAMES = [
  "beforeWalWrite",
  "afterWalWrite",
  "beforeFsync",
  "afterFsync",
  "beforeSnapshotSave",
  "afterSnapshotSave",
  "beforeSnapshotInstall",
  "afterSnapshotInstall",
  "beforeSendToFollower",
  "beforeApply",
  "beforePropose",
] as const;
export type FailpointName = (typeof FAILPOINT_NAMES)[number];

/**
 * sleep(ms): the point waits, then carries on. panic: the process dies at once (like kill -9).
 * error: the operation at the point fails as an I/O error would (a storage failure stops the
 * node; a send to a follower is dropped; a client's proposal is refused with UNAVAILABLE, so a
 * leader takes no entry of its own). off: disarmed.
 */
export type FailpointAction = { kind: "sleep"; ms: number } | { kind: "panic" } | { kind: "error" } | { kind: "off" };

export function isFailpointName(name: string): name is FailpointName {
  return (FAILPOINT_NAMES as readonly string[]).includes(name);
}

/** Parses "sleep(500ms)", "sleep(2s)", "sleep(100)" (ms), "panic", "error" or "off"; undefined if none. */
export function parseFailpointAction(text: string): FailpointAction | undefined {
  const trimmed = text.trim();
  if (trimmed === "panic" || trimmed === "error" || trimmed === "off") {
    return { kind: trimmed };
  }
  const sleep = /^sleep\((\d+(?:\.\d+)?)(ms|s)?\)$/.exec(trimmed);
  if (sleep === null) {
    return undefined;
  }
  const ms = Number(sleep[1]) * (sleep[2] === "s" ? 1000 : 1);
  return Number.isFinite(ms) && ms <= 600_000 ? { kind: "sleep", ms: Math.round(ms) } : undefined;
}

export function describeFailpointAction(action: FailpointAction): string {
  return action.kind === "sleep" ? `sleep(${action.ms}ms)` : action.kind;
}
