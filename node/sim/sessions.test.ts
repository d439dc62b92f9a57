import { describe, expect, test } from "vitest";
import { InvariantViolation } from "./invariants.js";
import { parseSessionCommand, sessionCommand, SessionChecks } from "./sessions.js";
import { emptyMachine } from "./sim-node.js";

function violation(action: () => void): string {
  try {
    action();
  } catch (error) {
    if (error instanceof InvariantViolation) {
      return error.message;
    }
    throw error;
  }
  return "none";
}

describe("session checks", () => {
  test("session commands round-trip; other commands are not session commands", () => {
    expect(parseSessionCommand(sessionCommand(3, 17))).toEqual({ client: "3", seq: 17 });
    expect(parseSessionCommand("c12")).toBeUndefined();
  });

  test("a session command takes effect at one index: a second effect, on any node, is a violation", () => {
    const checks = new SessionChecks();
    checks.onSessionCommand(1, 5, "s:1:1", true);
    checks.onSessionCommand(2, 5, "s:1:1", true); // another node, same index: fine
    checks.onSessionCommand(2, 9, "s:1:1", false); // the retry at 9, skipped: fine
    expect(checks.applied("s:1:1")).toBe(true);
    expect(violation(() => checks.onSessionCommand(3, 9, "s:1:1", true))).toMatch(/^exactly-once: .*s:1:1 at index 9; it took effect at index 5 already/);
  });

  test("skipping a session command that never took effect before is a violation (lost)", () => {
    const checks = new SessionChecks();
    expect(violation(() => checks.onSessionCommand(1, 4, "s:2:1", false))).toMatch(/^exactly-once: .*never took effect before/);
  });

  test("a restored machine must equal the one applying the same prefix gave", () => {
    const checks = new SessionChecks();
    const machine = { ...emptyMachine(), index: 3, hash: 42, count: 2, sessions: { "1": 2 } };
    checks.onMachineAt(1, machine);
    checks.onRestored(2, { ...machine, sessions: { "1": 2 } }, "installed");
    expect(violation(() => checks.onRestored(3, { ...machine, sessions: {} }, "installed"))).toMatch(
      /^snapshot-prefix: node 3 installed a snapshot at index 3/,
    );
  });
});
