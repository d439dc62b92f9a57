// The Docker runtime's mechanics on a real daemon, with echo nodes (see docker-test-support.ts)
// standing in for Raft servers: network, addresses, exec, logs, faults, kill/start, pause/resume
// and destroy. One cluster serves the whole file; tests run in order and each leaves it healed.
import type Docker from "dockerode";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DockerRuntime, type DockerCluster } from "../../harness/runtime/docker/docker-runtime.js";
import { netemMissingMessage, netemMissingReason } from "../../harness/runtime/docker/network.js";
import { FaultUnsupportedError } from "../../harness/runtime/runtime.js";
import { connectProbe, echoedBytesProbe, echoNodeCommand, labelledObjects, requireDocker, skipDocker, uniqueRunId } from "./docker-test-support.js";
import { parseHostPort } from "../../lib/host-port.js";

/** Sends a line to a node's client port from the host and returns what comes back within `waitMs`. */
function echoFromHost(clientAddress: string, line: string, waitMs = 2_000): Promise<string> {
  const { host, port } = parseHostPort(clientAddress);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = "";
    const timer = setTimeout(() => finish(), waitMs);
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(received);
    };
    socket.on("connect", () => socket.write(line));
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("utf8");
      if (received.length >= line.length) {
        finish();
      }
    });
    socket.on("error", () => finish());
  });
}

describe.skipIf(skipDocker)("DockerRuntime with echo nodes", () => {
  let docker: Docker;
  let cluster: DockerCluster;
  let logDir: string;
  const runId = uniqueRunId("mech");
  const address = (id: number): string => cluster.describeNode(id).address;
  const probe = async (from: number, to: number): Promise<string> => (await cluster.exec(from, connectProbe(address(to), 7000))).stdout.trim();

  beforeAll(async () => {
    docker = await requireDocker();
    logDir = await mkdtemp(join(tmpdir(), "raftlab-docker-test-"));
    const runtime = new DockerRuntime({ docker, build: "if-missing", stopGraceSeconds: 2 });
    cluster = await runtime.createCluster({ runId, nodeIds: [1, 2, 3], plugin: "kv", unsafe: [], logDir }, AbortSignal.timeout(110_000), {
      command: echoNodeCommand,
    });
  });

  afterAll(async () => {
    await cluster?.destroy();
    await rm(logDir, { recursive: true, force: true });
  });

  test("puts the nodes on an internal network with the chosen subnet, at fixed addresses", async () => {
    const network = await docker.getNetwork(cluster.networkName).inspect();
    expect({ internal: network.Internal, subnet: network.IPAM?.Config?.[0]?.Subnet, label: network.Labels?.["raftlab.run"] }).toEqual({
      internal: true,
      subnet: cluster.subnet,
      label: runId,
    });
    const base = cluster.subnet.replace(/\.0\/24$/, "");
    expect(cluster.nodes).toEqual([1, 2, 3].map((id) => ({ id, clientAddress: `${base}.${10 + id}:7001` })));
    for (const id of [1, 2, 3]) {
      const container = await cluster.describeNode(id).container.inspect();
      expect(container.NetworkSettings.Networks[cluster.networkName]?.IPAddress).toBe(address(id));
      expect(container.HostConfig.CapAdd).toEqual(["NET_ADMIN"]);
    }
  });

  test("the host reaches every node's client port", async () => {
    for (const node of cluster.nodes) {
      expect(await echoFromHost(node.clientAddress, `hello ${node.id}\n`)).toBe(`hello ${node.id}\n`);
    }
  });

  test("exec returns the exit code and both output streams", async () => {
    const result = await cluster.exec(2, ["node", "-e", 'console.log("out"); console.error("err"); process.exit(3)']);
    expect(result).toEqual({ exitCode: 3, stdout: "out\n", stderr: "err\n" });
  });

  test("each node's stderr lands in node-<id>.log as JSON lines", async () => {
    expect(cluster.logPath(3)).toBe(join(logDir, "node-3.log"));
    const lines = (await readFile(cluster.logPath(3), "utf8")).trim().split("\n");
    expect(lines.map((line) => JSON.parse(line) as { node: number; msg: string }).map(({ node, msg }) => ({ node, msg }))).toEqual([
      { node: 3, msg: "echo node up" },
    ]);
  });

  test("block(1, 2) makes 1's connections to 2 time out, leaves other pairs alone, and heal restores it", async () => {
    expect(await probe(1, 2)).toBe("connected");
    await cluster.network.block(1, 2);
    expect([await probe(1, 2), await probe(2, 3), await probe(3, 2), await probe(3, 1)]).toEqual(["timeout", "connected", "connected", "connected"]);
    // The harness's own traffic (from the network's gateway) is never blocked.
    expect(await echoFromHost(cluster.nodes[1]?.clientAddress ?? "", "still served\n")).toBe("still served\n");
    await cluster.network.heal();
    expect(await probe(1, 2)).toBe("connected");
  });

  test("loss installs one statistic rule per peer on the receiving node, and heal removes them", async () => {
    await cluster.network.loss([3], 0.25);
    const rules = (await cluster.exec(3, ["iptables", "-S", "RAFTLAB"])).stdout;
    expect(rules).toBe(
      [
        "-N RAFTLAB",
        `-A RAFTLAB -s ${address(1)}/32 -m statistic --mode random --probability 0.25000000000 -j DROP`,
        `-A RAFTLAB -s ${address(2)}/32 -m statistic --mode random --probability 0.25000000000 -j DROP`,
        "",
      ].join("\n"),
    );
    // Node 1 keeps the (empty) chain from the earlier heal, and gets no loss rules.
    expect((await cluster.exec(1, ["iptables", "-S", "RAFTLAB"])).stdout).toBe("-N RAFTLAB\n");
    await cluster.network.heal();
    expect((await cluster.exec(3, ["iptables", "-S", "RAFTLAB"])).stdout).toBe("-N RAFTLAB\n");
  });

  test("latency needs netem: capabilities() says so, and latency() throws FaultUnsupportedError where the kernel lacks it", async () => {
    const { latency } = await cluster.network.capabilities();
    if (latency === true) {
      await cluster.network.latency([1], 20, 5);
      expect((await cluster.exec(1, ["tc", "qdisc", "show", "dev", "eth0"])).stdout).toMatch(/netem .*delay 20ms\s+5ms/);
      await cluster.network.heal();
      expect((await cluster.exec(1, ["tc", "qdisc", "show", "dev", "eth0"])).stdout).not.toMatch(/netem/);
    } else {
      expect(latency).toBe(netemMissingReason);
      const attempt = cluster.network.latency([1], 20, 5);
      await expect(attempt).rejects.toBeInstanceOf(FaultUnsupportedError);
      await expect(attempt).rejects.toThrow(netemMissingMessage);
    }
  });

  test("bandwidth caps what a node sends with tbf, survives a restart, and heal lifts it", async () => {
    const echoedWithin2s = async (): Promise<number> => {
      const result = await cluster.exec(2, echoedBytesProbe(address(1), 7000, 512 * 1024, 2_000));
      return Number(result.stdout.trim());
    };
    expect(await echoedWithin2s()).toBe(512 * 1024);
    await cluster.network.bandwidth([1], 256_000);
    expect((await cluster.exec(1, ["tc", "qdisc", "show", "dev", "eth0"])).stdout).toMatch(/^qdisc tbf 1: root .*rate 256Kbit/m);
    // Node 1's echo is what the cap slows: 256 kbit/s is 32 kB/s, so 2 s carry 64 kB and a burst.
    const throttled = await echoedWithin2s();
    expect(throttled).toBeGreaterThan(16 * 1024);
    expect(throttled).toBeLessThan(96 * 1024);
    // A restarted node has a fresh network namespace; the cap is written into it again.
    await cluster.kill(1);
    await cluster.start(1);
    expect((await cluster.exec(1, ["tc", "qdisc", "show", "dev", "eth0"])).stdout).toMatch(/^qdisc tbf 1: root .*rate 256Kbit/m);
    await cluster.network.heal();
    expect((await cluster.exec(1, ["tc", "qdisc", "show", "dev", "eth0"])).stdout).not.toMatch(/tbf/);
    expect(await echoedWithin2s()).toBe(512 * 1024);
  });

  test("kill and start keep the node's /data volume and append to its log", async () => {
    const write = await cluster.exec(2, ["node", "-e", 'require("fs").writeFileSync("/data/kept.txt", "survives a crash")']);
    expect(write.exitCode).toBe(0);
    await cluster.kill(2);
    const killed = (await cluster.describeNode(2).container.inspect()).State;
    expect({ running: killed.Running, exitCode: killed.ExitCode }).toEqual({ running: false, exitCode: 137 });
    await cluster.start(2);
    const read = await cluster.exec(2, ["node", "-e", 'process.stdout.write(require("fs").readFileSync("/data/kept.txt", "utf8"))']);
    expect(read.stdout).toBe("survives a crash");
    const lines = (await readFile(cluster.logPath(2), "utf8")).trim().split("\n");
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(["echo node up", "echo node up"]);
  });

  test("a block on a killed node comes back when it starts (its new namespace has no rules of its own)", async () => {
    await cluster.kill(3);
    await cluster.network.block(1, 3);
    await cluster.start(3);
    expect([await probe(1, 3), await probe(2, 3)]).toEqual(["timeout", "connected"]);
    await cluster.network.heal();
    expect(await probe(1, 3)).toBe("connected");
  });

  test("pause freezes the node's processes, resume thaws them and applies faults changed meanwhile", async () => {
    const clientAddress = cluster.nodes[0]?.clientAddress ?? "";
    await cluster.pause(1);
    expect((await cluster.describeNode(1).container.inspect()).State.Paused).toBe(true);
    // The kernel still completes the handshake, but the frozen process echoes nothing.
    expect(await echoFromHost(clientAddress, "while paused\n", 1_000)).toBe("");
    await cluster.network.block(2, 1);
    await cluster.resume(1);
    expect(await echoFromHost(clientAddress, "after resume\n")).toBe("after resume\n");
    expect((await cluster.exec(1, ["iptables", "-S", "RAFTLAB"])).stdout).toBe(`-N RAFTLAB\n-A RAFTLAB -s ${address(2)}/32 -j DROP\n`);
    await cluster.network.heal();
  });

  test("resume of a node killed and restarted while paused (pause, then power loss) is a no-op, not an error", async () => {
    await cluster.pause(2);
    await cluster.kill(2);
    await cluster.start(2);
    await cluster.resume(2);
    expect((await cluster.describeNode(2).container.inspect()).State).toMatchObject({ Running: true, Paused: false });
    expect(await echoFromHost(cluster.nodes[1]?.clientAddress ?? "", "restarted\n")).toBe("restarted\n");
  });

  test("stop ends the node gracefully and start brings it back", async () => {
    await cluster.stop(3);
    const stopped = (await cluster.describeNode(3).container.inspect()).State;
    // docker-init forwards SIGTERM; the echo node dies of it (128 + 15).
    expect({ running: stopped.Running, exitCode: stopped.ExitCode }).toEqual({ running: false, exitCode: 143 });
    await cluster.start(3);
    expect(await echoFromHost(cluster.nodes[2]?.clientAddress ?? "", "back\n")).toBe("back\n");
  });

  test("destroy removes the containers, network and volumes, and may be called again", async () => {
    expect(await labelledObjects(docker, runId)).toHaveLength(7);
    await cluster.destroy();
    expect(await labelledObjects(docker, runId)).toEqual([]);
    await cluster.destroy();
  });
});
