// On a Docker host whose kernel has no netem qdisc (this CI host), a workload with latency faults
// is refused before the run creates anything: no container, network, volume or results folder.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLabel } from "../../harness/runtime/docker/labels.js";
import { probeHostNetem } from "../../harness/runtime/docker/host-netem.js";
import { netemMissingMessage, netemMissingReason } from "../../harness/runtime/docker/network.js";
import { DockerRuntime } from "../../harness/runtime/docker/docker-runtime.js";
import { requireBuiltCli, runCli } from "../support/run-cli.js";
import { requireDocker, skipDocker } from "./docker-test-support.js";

/** Only a host known to lack netem can show the refusal; on others the workload would just run. */
const hostLacksNetem = !skipDocker && (await probeHostNetem()) === false;

/** Every Docker object labelled with a run id of the kv-latency workload (run ids start with its name). */
async function kvLatencyObjects(docker: Docker): Promise<string[]> {
  const filters = JSON.stringify({ label: [runLabel] });
  const ofWorkload = (labels: Record<string, string> | undefined): boolean => (labels?.[runLabel] ?? "").startsWith("kv-latency-");
  const containers = (await docker.listContainers({ all: true, filters })).filter((c) => ofWorkload(c.Labels)).map((c) => `container ${c.Id}`);
  const networks = (await docker.listNetworks({ filters })).filter((n) => ofWorkload(n.Labels)).map((n) => `network ${n.Name}`);
  const volumes = ((await docker.listVolumes({ filters })).Volumes ?? []).filter((v) => ofWorkload(v.Labels ?? undefined)).map((v) => `volume ${v.Name}`);
  return [...containers, ...networks, ...volumes];
}

let docker: Docker;
let directory: string | undefined;
beforeAll(async () => {
  if (!hostLacksNetem) return;
  docker = await requireDocker();
  requireBuiltCli();
  directory = await mkdtemp(join(tmpdir(), "raftlab-latency-refusal-"));
});
afterAll(async () => {
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});

describe.runIf(hostLacksNetem)("latency on a Docker host without netem", () => {
  it("is a capability the Docker runtime reports missing, with the reason, before any cluster exists", async () => {
    expect(await new DockerRuntime({ docker }).networkCapabilities()).toEqual({ block: true, loss: true, latency: netemMissingReason, bandwidth: true });
  });

  it("is refused with exit 254 and the reason, before any Docker object or results folder exists", async () => {
    const before = await kvLatencyObjects(docker);
    const out = join(directory ?? tmpdir(), "kv-latency");
    const run = await runCli(["run", "workloads/kv-latency.yaml", "--runtime", "docker", "--seed", "1", "--out", out]);
    expect(run.code).toBe(254);
    expect(run.stderr).toContain(`workloads/kv-latency.yaml: nemesis.faults: the docker runtime cannot inject latency on this host: ${netemMissingMessage}`);
    expect(run.stderr).not.toMatch(/starting \d+ kv node/);
    expect(run.stdout).toBe("");
    expect(existsSync(out)).toBe(false);
    expect(await kvLatencyObjects(docker)).toEqual(before);
  });
});
