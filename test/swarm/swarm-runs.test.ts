// `raftlab run --runtime swarm` end to end on a one-host swarm: services pinned by constraint, an
// internal overlay network, faults through the host's Docker API, restarts by forced service
// update. The test makes the swarm when the daemon is in none (and leaves it afterwards); a swarm it
// found stays as it was. A correct cluster under partitions and kill -9 must come out valid, a node
// serving stale reads invalid, and no labelled object may outlive a run.
import Docker from "dockerode";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runLabel } from "../../harness/runtime/docker/labels.js";
import { interruptRuns, requireBuiltCli, runCli, summaryOf } from "../support/run-cli.js";
import { requireDocker, skipDocker } from "../docker/docker-test-support.js";

let docker: Docker;
let directory: string;
/** Whether this file made the swarm (and so must leave it), and docker_gwbridge with it. */
let createdSwarm = false;
let gatewayBridgeExisted = true;

async function swarmState(): Promise<string> {
  const info = (await docker.info()) as { Swarm?: { LocalNodeState?: string } };
  return info.Swarm?.LocalNodeState ?? "inactive";
}

async function ensureSwarm(): Promise<void> {
  if ((await swarmState()) === "active") {
    return;
  }
  gatewayBridgeExisted = (await docker.listNetworks({ filters: JSON.stringify({ name: ["docker_gwbridge"] }) })).length > 0;
  // Loopback only: a one-host swarm needs no other interface, and this one talks to nothing else.
  await docker.swarmInit({ ListenAddr: "127.0.0.1:2377", AdvertiseAddr: "127.0.0.1" });
  createdSwarm = true;
}

/** Every raftlab-labelled service, container, network and volume of runs whose id starts with `prefix`. */
async function labelledObjects(prefix: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [runLabel] });
  const mine = (labels: Record<string, string> | undefined): boolean => (labels?.[runLabel] ?? "").startsWith(prefix);
  const services = ((await docker.listServices({ filters })) as { Spec?: { Name?: string; Labels?: Record<string, string> } }[])
    .filter((service) => mine(service.Spec?.Labels))
    .map((service) => `service ${service.Spec?.Name ?? "?"}`);
  const secrets = ((await docker.listSecrets({ filters })) as { Spec?: { Name?: string; Labels?: Record<string, string> } }[])
    .filter((secret) => mine(secret.Spec?.Labels))
    .map((secret) => `secret ${secret.Spec?.Name ?? "?"}`);
  const containers = (await docker.listContainers({ all: true, filters }))
    .filter((container) => mine(container.Labels))
    .map((container) => `container ${container.Names[0] ?? container.Id}`);
  const networks = (await docker.listNetworks({ filters })).filter((network) => mine(network.Labels)).map((network) => `network ${network.Name}`);
  const volumes = ((await docker.listVolumes({ filters })).Volumes ?? []).filter((volume) => mine(volume.Labels)).map((volume) => `volume ${volume.Name}`);
  return [...services, ...secrets, ...containers, ...networks, ...volumes];
}

beforeAll(async () => {
  if (skipDocker) return;
  docker = await requireDocker();
  requireBuiltCli();
  directory = await mkdtemp(join(tmpdir(), "raftlab-run-swarm-"));
});
afterEach(interruptRuns);
afterAll(async () => {
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  if (createdSwarm) {
    await docker.swarmLeave({ force: true });
    if (!gatewayBridgeExisted)
      await docker
        .getNetwork("docker_gwbridge")
        .remove()
        .catch(() => {});
  }
});

describe.skipIf(skipDocker)("raftlab run (swarm runtime, one host)", () => {
  it("refuses with exit 254 when the daemon is not a swarm manager, before creating anything", async () => {
    if ((await swarmState()) !== "inactive") {
      return; // a swarm was already here: the other refusal below still runs
    }
    const run = await runCli(["run", "workloads/kv-kill.yaml", "--runtime", "swarm", "--duration", "1s", "--out", join(directory, "no-swarm")]);
    expect(run.stderr).toMatch(/SWARM_NOT_MANAGER: the Docker daemon at the local socket is not in a swarm \(state "inactive"\): run `docker swarm init`/);
    expect(run.code).toBe(254);
  });

  it("refuses with exit 254 when a host's Docker API does not answer", async () => {
    await ensureSwarm();
    const info = (await docker.info()) as { Name: string };
    const hosts = join(directory, "unreachable-hosts.yaml");
    await writeFile(hosts, `hosts:\n  ${info.Name}: tcp://127.0.0.1:1\n`);
    const workload = join(directory, "unreachable.yaml");
    await writeFile(workload, `name: swarm-unreachable\nnodes: 1\nduration: 1s\nswarm: { hosts_file: ${hosts} }\n`);
    const run = await runCli(["run", workload, "--runtime", "swarm", "--out", join(directory, "unreachable")]);
    expect(run.stderr).toMatch(new RegExp(`SWARM_HOST_UNREACHABLE: the Docker API of swarm node ${info.Name} \\(tcp://127.0.0.1:1\\) does not answer`));
    expect(run.code).toBe(254);
    expect(await labelledObjects("swarm-unreachable-")).toEqual([]);
  });

  it("kv under partitions and kill -9 is valid, and the run leaves nothing labelled", async () => {
    await ensureSwarm();
    const workload = join(directory, "swarm-kv-faults.yaml");
    await writeFile(
      workload,
      [
        "name: swarm-kv-faults",
        "plugin: kv",
        "nodes: 3",
        "duration: 12s",
        "clients: { concurrency: 2n, timeout: 1s, keys: 5 }",
        // Every step cuts the cluster in two, then kills the leader (a restart on heal), so both kinds
        // of fault happen whatever the seed picks.
        "nemesis: { interval: 2s, faults: [{ all: [partition-random-halves, kill-leader], spacing: 300ms }] }",
        "final: { recovery: 3s }",
      ].join("\n"),
    );
    const out = join(directory, "kv-faults");
    const run = await runCli(["run", workload, "--runtime", "swarm", "--seed", "3", "--out", out]);
    expect(run.stdout).toMatch(/^swarm-kv-faults: VALID \(seed 3, swarm, 3 node\(s\)/m);
    expect(run.code).toBe(0);
    const summary = await summaryOf(out);
    expect(summary).toMatchObject({ runtime: "swarm", valid: true, checks: { linearizable: { valid: true }, "node-logs": { valid: true } } });
    const faults = (summary["faults"] as { f: string }[]).map((fault) => fault.f);
    expect(faults.length).toBeGreaterThan(0);
    expect(new Set(faults)).toEqual(new Set(["partition-random-halves+kill-leader"]));
    // A killed leader came back as a new task with its volume: its WAL still held the entries.
    const recovered = await Promise.all([1, 2, 3].map(async (id) => (await readFile(join(out, "nodes", `node-${id}.log`), "utf8")).split("\n")));
    const recoveredEntries = recovered.flat().flatMap((line) => (line.includes('"wal: recovered"') ? [(JSON.parse(line) as { entries: number }).entries] : []));
    expect(
      recoveredEntries.some((entries) => entries > 0),
      `wal: recovered entries ${recoveredEntries.join(", ")}`,
    ).toBe(true);
    expect(await labelledObjects("swarm-kv-faults-")).toEqual([]);
  });

  it("a node serving stale reads is reported invalid, and the run leaves nothing labelled", async () => {
    await ensureSwarm();
    const out = join(directory, "stale-reads");
    const run = await runCli(["run", "workloads/unsafe-stale-reads.yaml", "--runtime", "swarm", "--seed", "11", "--duration", "10s", "--out", out]);
    expect(run.stdout).toMatch(/^unsafe-stale-reads: INVALID \(seed 11, swarm/m);
    expect(run.code).toBe(1);
    expect(await summaryOf(out)).toMatchObject({ runtime: "swarm", valid: false, checks: { linearizable: { valid: false } } });
    expect(await labelledObjects("unsafe-stale-reads-")).toEqual([]);
  });

  it("Ctrl-C during a run removes its services, networks and volumes", async () => {
    await ensureSwarm();
    let runId = "";
    const run = await runCli(["run", "workloads/kv-kill.yaml", "--runtime", "swarm", "--out", join(directory, "interrupted")], {
      onStderr: (text, send) => {
        const match = /swarm: run (\S+):/.exec(text);
        if (match !== null && runId === "") {
          runId = match[1]!;
          send("SIGINT");
        }
      },
    });
    // The run's own words when it ended before placing its nodes (seen once in CI, cause unknown).
    expect(runId, `no "swarm: run" line; exit ${String(run.code)}; stderr:\n${run.stderr}`).toMatch(/^kv-kill-/);
    // 255 when the run's own handler exits first, 130 (128 + SIGINT) when the cleanup's does.
    expect([130, 255]).toContain(run.code);
    expect(await labelledObjects(runId)).toEqual([]);
  });

  it("raftlab clean removes what a run killed with SIGKILL left in the swarm", async () => {
    await ensureSwarm();
    let runId = "";
    await runCli(["run", "workloads/kv-kill.yaml", "--runtime", "swarm", "--out", join(directory, "killed")], {
      onStderr: (text, send) => {
        const match = /swarm: run (\S+):/.exec(text);
        if (match !== null && runId === "") {
          runId = match[1]!;
          send("SIGKILL");
        }
      },
    });
    expect(runId).toMatch(/^kv-kill-/);
    const left = await labelledObjects(runId);
    expect(left.filter((object) => object.startsWith("service ")).length).toBe(3);
    const clean = await runCli(["clean", "--run", runId]);
    expect(clean.stdout).toMatch(/^raftlab clean: removed 3 services, 1 secret, \d+ containers?, 2 networks, 3 volumes$/m);
    expect(clean.code).toBe(0);
    expect(await labelledObjects(runId)).toEqual([]);
  });
});
