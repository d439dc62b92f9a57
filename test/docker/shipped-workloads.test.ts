// The shipped workloads for the other plugins and the everything-at-once fault mix, run on the
// Docker runtime as users run them (shortened with --duration): real containers, iptables
// partitions and loss, kill -9, docker pause, leader transfers and membership changes.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { requireBuiltCli, interruptRuns, runCli, summaryOf } from "../support/run-cli.js";
import { requireDocker, skipDocker } from "./docker-test-support.js";

let directory: string | undefined;
beforeAll(async () => {
  if (skipDocker) return;
  await requireDocker();
  requireBuiltCli();
  directory = await mkdtemp(join(tmpdir(), "raftlab-shipped-docker-"));
});
afterEach(interruptRuns);
afterAll(async () => {
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});

describe.skipIf(skipDocker)("shipped workloads on Docker", () => {
  it.each([
    ["counter-partitions", "8s"],
    ["queue-kill", "8s"],
    ["kv-mixed-faults", "12s"],
  ])("%s is valid", async (name, duration) => {
    const out = join(directory ?? tmpdir(), name);
    const run = await runCli(["run", `workloads/${name}.yaml`, "--runtime", "docker", "--duration", duration, "--seed", "9", "--out", out]);
    const verdictLine = run.stdout.split("\n").find((line) => /: (VALID|INVALID|UNKNOWN) /.test(line));
    // On a mismatch the whole verdict block (every check's line) shows why, not just the first line.
    const verdictBlock = verdictLine === undefined ? `no verdict; stderr tail:\n${run.stderr.slice(-2000)}` : run.stdout.slice(run.stdout.indexOf(verdictLine));
    expect(verdictBlock).toMatch(new RegExp(`^${name}: VALID \\(seed 9, docker`));
    expect(run.code).toBe(0);
    // Every Docker run copies the nodes' data out (keep_data): nothing of it may keep the CLI alive.
    expect(run.stderr).not.toMatch(/still open .* after the command ended/);
    const summary = await summaryOf(out);
    expect(summary).toMatchObject({ runtime: "docker", valid: true });
    expect((summary["faults"] as unknown[]).length).toBeGreaterThan(0);
  });
});
