import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, parseNodeArgs } from "./config.js";
import { newSecret, writeSecretFile } from "./secret-file.js";

const base = [
  "--insecure",
  "--id",
  "1",
  "--listen",
  "127.0.0.1:7001",
  "--client-listen",
  "127.0.0.1:8001",
  "--peers",
  "1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003",
  "--plugin",
  "kv",
  "--data",
  "/tmp/n1",
];

function errorOf(argv: string[]): ConfigError {
  try {
    parseNodeArgs(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      return error;
    }
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("parseNodeArgs", () => {
  it("parses the contract's flags with defaults", () => {
    const config = parseNodeArgs([...base, "--peer-clients", "2=127.0.0.1:8002", "--unsafe", "stale-reads,ack-before-commit"]);
    expect(config.id).toBe(1);
    expect([...config.peers]).toEqual([
      [1, "127.0.0.1:7001"],
      [2, "127.0.0.1:7002"],
      [3, "127.0.0.1:7003"],
    ]);
    expect([...config.peerClients]).toEqual([[2, "127.0.0.1:8002"]]);
    expect([...config.unsafe]).toEqual(["stale-reads", "ack-before-commit"]);
    expect(config.join).toBe(false);
    expect(config.clusterId).toBe("raftlab");
    expect(config.snapshotEvery).toBe(10000);
  });

  it("accepts --flag=value and --join without its own id in --peers", () => {
    const config = parseNodeArgs([
      "--id=4",
      "--listen=127.0.0.1:7004",
      "--client-listen=127.0.0.1:8004",
      "--peers=1=127.0.0.1:7001",
      "--plugin=counter",
      "--data=/tmp/n4",
      "--join",
      "--snapshot-every=100",
      "--insecure",
    ]);
    expect(config.join).toBe(true);
    expect(config.snapshotEvery).toBe(100);
    expect(config.peers.get(1)).toBe("127.0.0.1:7001");
  });

  it.each([
    [["--id", "0"], "--id: 0 is outside 1..4294967295"],
    [["--id", "x"], '--id: "x" is not a non-negative integer'],
    [["--listen", "localhost"], '--listen: "localhost" is not HOST:PORT'],
    [["--listen", "127.0.0.1:70000"], '--listen: port 70000 in "127.0.0.1:70000" is above 65535'],
    [["--listen", "::1:7001"], '--listen: "::1:7001" is not HOST:PORT (write an IPv6 host in brackets: [::1]:7000)'],
    // Port 0 is "any free port" for a listener but cannot be dialled: it used to pass in --peers.
    [["--peers", "1=127.0.0.1:0"], '--peers: port 0 in "127.0.0.1:0" can only be listened on: give a port in 1..65535'],
    [["--peers", "2=127.0.0.1:7002"], "--peers: must list this node's own id 1 (or start it with --join)"],
    [["--peers", "1=a:1,1=b:2"], "--peers: node 1 listed twice"],
    [
      ["--unsafe", "fast-reads"],
      '--unsafe: "fast-reads" is not one of stale-reads, ack-before-commit, vote-without-log-check, commit-previous-term, read-without-quorum, append-without-truncate, vote-not-persisted, ack-before-fsync, snapshot-without-sessions, apply-uncommitted',
    ],
    [["--bogus", "1"], "--bogus: unknown flag"],
    [["--heartbeat-ticks", "30"], "--heartbeat-ticks: must be below --election-ticks (20)"],
  ])("names the bad flag: %j", (override, message) => {
    const argv = [...base];
    const at = argv.indexOf(override[0]!);
    if (at >= 0) {
      argv.splice(at, 2, ...override);
    } else {
      argv.push(...override);
    }
    const error = errorOf(argv);
    expect(error.code).toBe("BAD_FLAG");
    expect(error.message).toBe(message);
  });

  it("names a missing required flag", () => {
    expect(errorOf(base.slice(0, -2)).message).toBe("--data: is required");
    expect(errorOf([...base.slice(0, -1)]).message).toBe("--data: needs a value");
  });
});

describe("the cluster secret", () => {
  const directory = mkdtempSync(join(tmpdir(), "raftlab-secret-"));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const secured = base.filter((flag) => flag !== "--insecure");

  it("is read from --secret-file, a file only its owner may read", () => {
    const path = join(directory, "good");
    const secret = newSecret();
    writeSecretFile(path, secret);
    expect(Buffer.from(parseNodeArgs([...secured, "--secret-file", path]).secret!).toString()).toBe(secret);
    expect(parseNodeArgs(base).secret).toBeUndefined();
  });

  it.each([
    [[], /^--secret-file: is required: .*pass --insecure to run without authentication/],
    [["--secret-file", "/no/such/file"], /^--secret-file: cannot read \/no\/such\/file: ENOENT/],
    [["--secret-file", "x", "--insecure"], /^--insecure: cannot be combined with --secret-file$/],
  ])("refuses to start without one, unless --insecure: %j", (extra, message) => {
    expect(errorOf([...secured, ...extra]).message).toMatch(message);
  });

  it("refuses a file others may read, and a short secret", () => {
    const open = join(directory, "open");
    writeFileSync(open, newSecret());
    chmodSync(open, 0o644);
    expect(errorOf([...secured, "--secret-file", open]).message).toBe(`--secret-file: ${open} has mode 0644: other users may read it; chmod 600 it`);
    const short = join(directory, "short");
    writeSecretFile(short, "hunter2");
    expect(errorOf([...secured, "--secret-file", short]).message).toBe(`--secret-file: ${short} holds 7 characters; a secret needs at least 32`);
  });
});
