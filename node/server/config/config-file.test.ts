import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, parseNodeArgs } from "./config.js";

const directory = mkdtempSync(join(tmpdir(), "raftlab-config-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function configFile(name: string, text: string): string {
  const path = join(directory, name);
  writeFileSync(path, text);
  return path;
}

function messageOf(argv: string[]): string {
  try {
    parseNodeArgs(argv);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

const cluster = `
id: n1
listen: 127.0.0.1:7001
client-listen: 127.0.0.1:8001
peers: { n1: 127.0.0.1:7001, n2: 127.0.0.1:7002, n3: 127.0.0.1:7003 }
plugin: kv
data: /tmp/raftlab-n1
unsafe: [stale-reads]
snapshot-every: 500
insecure: true
`;

describe("raftlab node --config FILE", () => {
  it("reads every flag from a YAML mapping; ids may be written n1", () => {
    const config = parseNodeArgs(["--config", configFile("n1.yaml", cluster)]);
    expect(config.id).toBe(1);
    expect([...config.peers]).toEqual([
      [1, "127.0.0.1:7001"],
      [2, "127.0.0.1:7002"],
      [3, "127.0.0.1:7003"],
    ]);
    expect(config.plugin).toBe("kv");
    expect(config.dataDir).toBe("/tmp/raftlab-n1");
    expect([...config.unsafe]).toEqual(["stale-reads"]);
    expect(config.snapshotEvery).toBe(500);
  });

  it("lets command-line flags override the file, so one file serves every node", () => {
    const config = parseNodeArgs(["--config", configFile("shared.yaml", cluster), "--id", "n2", "--listen", "127.0.0.1:7002", "--data", "/tmp/raftlab-n2"]);
    expect(config.id).toBe(2);
    expect(config.listen).toBe("127.0.0.1:7002");
    expect(config.dataDir).toBe("/tmp/raftlab-n2");
    expect(config.clientListen).toBe("127.0.0.1:8001");
  });

  it("accepts JSON (a YAML subset) and boolean join", () => {
    const path = configFile(
      "n4.json",
      JSON.stringify({
        id: 4,
        listen: "127.0.0.1:7004",
        "client-listen": "127.0.0.1:8004",
        peers: "1=127.0.0.1:7001",
        plugin: "counter",
        data: "/tmp/n4",
        join: true,
        insecure: true,
      }),
    );
    const config = parseNodeArgs(["--config", path]);
    expect(config.join).toBe(true);
    expect(config.plugin).toBe("counter");
  });

  it("names the file and the setting at fault", () => {
    const bad = configFile("bad-port.yaml", cluster.replace("client-listen: 127.0.0.1:8001", "client-listen: 127.0.0.1:99999"));
    expect(messageOf(["--config", bad])).toBe(`--config: ${bad}: client-listen: port 99999 in "127.0.0.1:99999" is above 65535`);
    const unknown = configFile("unknown.yaml", `${cluster}\nelection-timeout: 5\n`);
    expect(messageOf(["--config", unknown])).toMatch(new RegExp(`^--config: ${unknown}: election-timeout: unknown setting; known: id, listen, `));
    const notYaml = configFile("broken.yaml", "id: [1,\n");
    expect(messageOf(["--config", notYaml])).toMatch(new RegExp(`^--config: ${notYaml}:\\d+: not valid YAML`));
    expect(messageOf(["--config", join(directory, "missing.yaml")])).toMatch(/^--config: cannot read .*missing\.yaml: ENOENT/);
    const list = configFile("list.yaml", "- id\n");
    expect(messageOf(["--config", list])).toBe(`--config: ${list}: must be a mapping of flag names to values`);
    const nested = configFile("nested.yaml", `${cluster}\ntick-ms: { a: 1 }\n`);
    expect(messageOf(["--config", nested])).toMatch(/tick-ms: must be a string, a number, a list of strings or a map of ids to addresses$/);
  });

  it("still names a bad command-line flag as the flag", () => {
    expect(messageOf(["--config", configFile("ok.yaml", cluster), "--tick-ms", "x"])).toBe('--tick-ms: "x" is not a non-negative integer');
  });
});
