// The node command line's error handling (no cluster needed).
import { spawnSync } from "node:child_process";
import { beforeAll, expect, it } from "vitest";
import { CLI_PATH, requireBuild } from "./cluster-helpers.js";

beforeAll(() => requireBuild());

function run(args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [CLI_PATH, ...args], { encoding: "utf8", timeout: 10_000 });
  return { status: result.status, stderr: result.stderr };
}

const valid = ["--id", "1", "--listen", "127.0.0.1:1", "--client-listen", "127.0.0.1:2", "--peers", "1=127.0.0.1:1", "--data", "/tmp/x", "--insecure"];

it("exits 254 naming a bad flag", () => {
  const result = run([...valid, "--plugin", "kv", "--unsafe", "fast"]);
  expect(result.status).toBe(254);
  expect(result.stderr.split("\n")[0]).toBe(
    'raftlab node: --unsafe: "fast" is not one of stale-reads, ack-before-commit, vote-without-log-check, commit-previous-term, read-without-quorum, append-without-truncate, vote-not-persisted, ack-before-fsync, snapshot-without-sessions, apply-uncommitted',
  );
});

it("exits 254 naming a missing flag", () => {
  const result = run(valid);
  expect(result.status).toBe(254);
  expect(result.stderr.split("\n")[0]).toBe("raftlab node: --plugin: is required");
});

it("exits 254 naming an unknown plugin", () => {
  const result = run([...valid, "--plugin", "no-such-plugin"]);
  expect(result.status).toBe(254);
  expect(result.stderr).toMatch(/--plugin: .*no-such-plugin/);
});

it("exits 254 when started without credentials, unless --insecure says so", () => {
  const withoutCredentials = valid.filter((flag) => flag !== "--insecure");
  const result = run([...withoutCredentials, "--plugin", "kv"]);
  expect(result.status).toBe(254);
  expect(result.stderr.split("\n")[0]).toMatch(/^raftlab node: --secret-file: is required: .*\(pass --insecure to run without authentication/);
});
