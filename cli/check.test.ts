// `raftlab check` end to end: the real CLI in a child process, on reference histories.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dataDirectory = join(root, "checker/testdata/reference");
const cli = join(root, "cli/raftlab.ts");

interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function runCheck(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", cli, "check", ...args], { cwd: root }, (error, stdout, stderr) => {
      const exitCode = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ exitCode, stdout, stderr });
    });
  });
}

describe.concurrent("raftlab check", () => {
  test("a linearizable history exits 0 with a summary", async () => {
    const result = await runCheck(join(dataDirectory, "kv__c10-ok.jsonl"));
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/kv__c10-ok\.jsonl: linearizable\n/);
    expect(result.stdout).toMatch(/337 operations \(337 ok, 0 info; 0 failed, dropped\), plugin kv, 10 partitions \(10 decided\)/);
  });

  test("an illegal history exits 1 and names the key, the op that cannot follow and the state", async () => {
    const result = await runCheck(join(dataDirectory, "jepsen__etcd_000.jsonl"), "--plugin", "kv");
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/NOT linearizable/);
    expect(result.stdout).toMatch(/not linearizable: key "x" \(85 operations\)/);
    expect(result.stdout).toMatch(/longest linearizable prefix: \d+ operations/);
    expect(result.stdout).toMatch(/cannot be linearized next: get "x" -> "2" +\(process 11, lines 85-86\)/);
    expect(result.stdout).toMatch(/model state at that point: "\d"/);
  });

  test("--json prints one object with the explanation", async () => {
    const result = await runCheck(join(dataDirectory, "jepsen__etcd_000.jsonl"), "--json");
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(result.stdout) as {
      verdict: string;
      operations: number;
      problems: { key: string; prefixLength: number; firstBadOperation: { description: string; invokeLine: number }; stateBefore: string }[];
    };
    expect(report.verdict).toBe("illegal");
    expect(report.operations).toBe(85);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]?.key).toBe("x");
    expect(report.problems[0]?.firstBadOperation).toMatchObject({ description: 'get "x" -> "2"', invokeLine: 85 });
    expect(report.problems[0]?.prefixLength).toBeGreaterThan(30);
  });

  test("a process invoking again after its own info is accepted and counted; --strict rejects it", async () => {
    const file = join(dataDirectory, "cas-register__bad__cas-failure.jsonl");
    const accepted = await runCheck(file, "--plugin", "kv");
    expect(accepted.exitCode).toBe(1);
    expect(accepted.stdout).toMatch(/\n  28 invoke\(s\) by a process after its own info, accepted/);
    const strict = await runCheck(file, "--plugin", "kv", "--strict");
    expect(strict.exitCode).toBe(254);
    expect(strict.stderr).toMatch(/cas-failure\.jsonl:23: field "process": process 70 invokes again after its info on line 9/);
  });

  test("an illegal history's output explains it in one paragraph", async () => {
    const result = await runCheck(join(dataDirectory, "jepsen__etcd_000.jsonl"), "--plugin", "kv");
    expect(result.stdout).toMatch(
      /\n  get "x" -> "2" by process 11, invoked at [\d.]+ s and answered at [\d.]+ s, cannot be placed in any order of the history consistent with real time\./,
    );
  });

  test("a timeout gives verdict unknown and exit 2", async () => {
    // A history the search must decide, in more iterations than its first slice (the read-mapping
    // decides kv__c50-ok without a search now): the deadline is looked at after each slice.
    const result = await runCheck(join(dataDirectory, "jepsen__etcd_040.jsonl"), "--plugin", "kv", "--timeout", "1ms", "--json");
    expect(result.exitCode).toBe(2);
    const report = JSON.parse(result.stdout) as { verdict: string; reason: string };
    expect(report.verdict).toBe("unknown");
    expect(report.reason).toMatch(/^timed out after \d+ ms$/);
  });

  test("a search past --memory gives verdict unknown, exit 2, and says how to raise the bound", async () => {
    // Any Node process is resident in more than 1 MiB: the first slice of the search must stop.
    const file = join(dataDirectory, "jepsen__etcd_040.jsonl");
    const result = await runCheck(file, "--plugin", "kv", "--memory", "1MiB", "--json");
    expect(result.exitCode).toBe(2);
    const report = JSON.parse(result.stdout) as { verdict: string; reason: string; explanation: string };
    expect(report.verdict).toBe("unknown");
    expect(report.reason).toMatch(/^the process reached its memory bound: \d+ MiB resident, bound 1 MiB$/);
    expect(report.explanation).toMatch(/ran out of memory .*Raise the bound with raftlab check --memory/);
    // The same history within a bound it fits: decided.
    const decided = await runCheck(file, "--plugin", "kv", "--memory", "2GiB", "--json");
    expect(decided.exitCode).toBe(1);
  });

  test("bad input exits 254 naming the file, line and field", async () => {
    const directory = await mkdtemp(join(tmpdir(), "raftlab-check-"));
    const file = join(directory, "bad.jsonl");
    await writeFile(
      file,
      '{"index":0,"time":5,"process":1,"type":"invoke","f":"get","key":"a","value":null}\n' +
        '{"index":1,"time":3,"process":1,"type":"ok","f":"get","key":"a","value":null}\n',
    );
    const result = await runCheck(file);
    expect(result.exitCode).toBe(254);
    expect(result.stderr).toBe(`raftlab check: ${file}:2: field "time": 3 is before the previous event's 5; times must not decrease\n`);
  });

  test("a kv operation without a key is bad input: exit 254 naming its line", async () => {
    const directory = await mkdtemp(join(tmpdir(), "raftlab-check-"));
    const file = join(directory, "keyless.jsonl");
    await writeFile(
      file,
      [
        '{"index":0,"time":0,"process":0,"type":"invoke","f":"put","key":"a","value":"1"}',
        '{"index":1,"time":1000,"process":0,"type":"ok","f":"put","key":"a","value":null}',
        '{"index":2,"time":2000,"process":1,"type":"invoke","f":"get","key":"b","value":null}',
        '{"index":3,"time":3000,"process":1,"type":"ok","f":"get","key":"b","value":"1"}',
        '{"index":4,"time":4000,"process":2,"type":"invoke","f":"get","value":null}',
      ].join("\n") + "\n",
    );
    const result = await runCheck(file);
    expect(result.exitCode).toBe(254);
    expect(result.stderr).toBe(`raftlab check: ${file}:5: kv operation "get" has no key (field "key" must be a string) (plugin kv)\n`);
  });

  test("bad usage exits 254 with the usage text", async () => {
    const missing = await runCheck();
    expect(missing.exitCode).toBe(254);
    expect(missing.stderr).toMatch(/^raftlab check: missing the history FILE\nusage: raftlab check FILE/);
    const badTimeout = await runCheck(join(dataDirectory, "kv__c01-ok.jsonl"), "--timeout", "soon");
    expect(badTimeout.exitCode).toBe(254);
    expect(badTimeout.stderr).toMatch(/--timeout: "soon" is not a duration/);
    const badMemory = await runCheck(join(dataDirectory, "kv__c01-ok.jsonl"), "--memory", "lots");
    expect(badMemory.exitCode).toBe(254);
    expect(badMemory.stderr).toMatch(/--memory: "lots" is not a size like 512MiB, 2GiB or 800MB/);
    const badPlugin = await runCheck(join(dataDirectory, "kv__c01-ok.jsonl"), "--plugin", "nope");
    expect(badPlugin.exitCode).toBe(254);
    expect(badPlugin.stderr).toMatch(/unknown plugin "nope"/);
  });

  test("--html writes a self-contained report", async () => {
    const directory = await mkdtemp(join(tmpdir(), "raftlab-check-"));
    const html = join(directory, "report.html");
    const result = await runCheck(join(dataDirectory, "kv__c01-bad.jsonl"), "--html", html);
    expect(result.exitCode).toBe(1);
    const text = await readFile(html, "utf8");
    expect(text.startsWith("<!doctype html>")).toBe(true);
    expect(text).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  });
});
