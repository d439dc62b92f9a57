import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectHost, hostsFileDirectory, readHostsFile } from "./hosts-file.js";
import { compareApiVersions } from "./swarm-hosts.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "raftlab-hosts-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function hostsFile(text: string): Promise<string> {
  const path = join(directory, `hosts-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(path, text);
  return path;
}

describe("the swarm hosts file", () => {
  it("maps node names to endpoints, written short or in full", async () => {
    const path = await hostsFile(
      [
        "hosts:",
        "  a: unix:///var/run/docker.sock",
        "  b: { docker: 'ssh://raftlab@192.0.2.12:2222', address: 192.0.2.12 }",
        "  c: { docker: 'tcp://192.0.2.13:2375' }",
      ].join("\n"),
    );
    const file = await readHostsFile(path);
    expect(Object.fromEntries(file.hosts)).toEqual({
      a: { docker: "unix:///var/run/docker.sock" },
      b: { docker: "ssh://raftlab@192.0.2.12:2222", address: "192.0.2.12" },
      c: { docker: "tcp://192.0.2.13:2375" },
    });
    const connections = [...file.hosts.values()].map((entry) => connectHost(entry, hostsFileDirectory(path), path));
    expect(connections.map(({ local, endpointHost }) => ({ local, endpointHost }))).toEqual([
      { local: true, endpointHost: undefined },
      { local: false, endpointHost: "192.0.2.12" },
      { local: false, endpointHost: "192.0.2.13" },
    ]);
    // docker-modem's type declarations omit the fields it keeps from its options.
    const modems = connections.map(({ docker }) => docker.modem as unknown as { protocol: string; port: number | undefined });
    expect(modems.map(({ protocol, port }) => [protocol, port])).toEqual([
      ["http", undefined],
      ["ssh", 2222],
      ["http", 2375],
    ]);
  });

  it("names the file, line and field of a bad endpoint or an unknown field", async () => {
    const path = await hostsFile(["hosts:", "  a: { docker: 'docker.example:2375' }", "  b: { docker: 'tcp://x:1', adress: x }"].join("\n"));
    await expect(readHostsFile(path)).rejects.toThrow(
      `${path}:2: hosts.a.docker: expected a Docker endpoint starting with unix://, ssh://, tcp://, http://, https://; got "docker.example:2375"\n` +
        `${path}:3: hosts.b.adress: unknown field "adress"`,
    );
  });

  it("reads TLS files relative to the hosts file and says which one is missing", async () => {
    const path = await hostsFile("hosts:\n  a: { docker: 'tcp://192.0.2.13:2376', tls: { ca: ca.pem, cert: cert.pem, key: key.pem } }\n");
    const file = await readHostsFile(path);
    expect(() => connectHost(file.hosts.get("a")!, hostsFileDirectory(path), path)).toThrow(`${path}: tls.ca: cannot read ${join(directory, "ca.pem")}`);
  });
});

describe("API versions", () => {
  it("compare numerically, so 1.41 is newer than 1.9 and 1.40", () => {
    expect([compareApiVersions("1.41", "1.41"), Math.sign(compareApiVersions("1.40", "1.41")), Math.sign(compareApiVersions("1.43", "1.41"))]).toEqual([
      0, -1, 1,
    ]);
    expect(Math.sign(compareApiVersions("1.9", "1.41"))).toBe(-1);
  });
});
