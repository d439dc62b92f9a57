import { describe, expect, it } from "vitest";
import { judgeReplicas, type ReplicaState } from "./replicas.js";

const hashA = "a".repeat(64);
const hashB = "b".repeat(64);
const at = (node: number, applied: number, sha256: string): ReplicaState => ({ node, applied, sha256, bytes: 10 });

describe("replicas check verdict", () => {
  it("is valid when every node has the same hash at the same index", () => {
    const report = judgeReplicas([at(1, 40, hashA), at(2, 40, hashA), at(3, 40, hashA)]);
    expect({ valid: report.valid, index: report.index, reason: report.reason }).toEqual({
      valid: true,
      index: 40,
      reason: "3 replicas agree at index 40: sha256 aaaaaaaaaaaa...",
    });
  });

  it("is invalid and names every node's hash when they differ", () => {
    const report = judgeReplicas([at(1, 40, hashA), at(2, 40, hashA), at(3, 40, hashB)]);
    expect(report.valid).toBe(false);
    expect(report.reason).toBe(
      "replicas diverged at index 40: n1 aaaaaaaaaaaa..., n2 aaaaaaaaaaaa..., n3 bbbbbbbbbbbb... " +
        "(same applied index, different state: a nondeterministic plugin apply(), a snapshot() that is not canonical, or a Raft bug)",
    );
  });

  it("is unknown, naming the node and why, when a node gave no hash", () => {
    const report = judgeReplicas([at(1, 40, hashA), { node: 2, applied: null, sha256: null, bytes: null, error: "connection refused" }]);
    expect({ valid: report.valid, reason: report.reason }).toEqual({ valid: "unknown", reason: "could not compare replicas: n2: connection refused" });
  });

  it("is unknown when the nodes answered at different indexes", () => {
    const report = judgeReplicas([at(1, 40, hashA), at(2, 41, hashB)]);
    expect({ valid: report.valid, reason: report.reason }).toEqual({
      valid: "unknown",
      reason: "replicas never reached a common applied index in 3 rounds: n1 at 40, n2 at 41",
    });
  });
});
