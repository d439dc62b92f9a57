import { readdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { kvPlugin } from "../../plugins/kv/index.js";
import { loadDefaultWorkload } from "./defaults.js";
import { WorkloadFileError } from "./errors.js";
import { parseWorkload, readWorkloadFile } from "./load.js";
import { applyOverrides } from "./overrides.js";
import { loadWorkloadPlugin, planRun } from "./plan.js";

const workloadsDirectory = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "workloads");

function problemsOf(text: string, file = "workloads/x.yaml"): string {
  try {
    parseWorkload(text, file);
  } catch (error) {
    expect(error).toBeInstanceOf(WorkloadFileError);
    expect((error as WorkloadFileError).code).toBe("WORKLOAD_INVALID");
    return (error as Error).message;
  }
  throw new Error("expected the workload to be rejected");
}

describe("workload schema", () => {
  it("fills defaults for a minimal file", () => {
    const { spec } = parseWorkload("name: tiny\n", "tiny.yaml");
    expect(spec).toEqual({
      name: "tiny",
      plugin: "kv",
      nodes: 3,
      runtime: "auto",
      duration: "20s",
      clients: { concurrency: "2n", timeout: "1s", keys: 5, distribution: "uniform", retries: true },
      nemesis: { interval: "5s", faults: [] },
      final: { recovery: "10s" },
      checker: { timeout: "60s" },
      keep_data: "failed",
      node: { unsafe: [] },
    });
  });

  it("reads clients.retries and keep_data, and --no-retries overrides the file", () => {
    const loaded = parseWorkload("name: x\nclients: { retries: false }\nkeep_data: always\n", "x.yaml");
    const plan = planRun(loaded, loaded.spec, kvPlugin);
    expect(plan.clients.retries).toBe(false);
    expect(plan.keepData).toBe("always");
    const defaults = parseWorkload("name: x\n", "x.yaml");
    expect(planRun(defaults, applyOverrides(defaults.spec, { retries: false }), kvPlugin).clients.retries).toBe(false);
    expect(planRun(defaults, defaults.spec, kvPlugin).clients.retries).toBe(true);
    expect(problemsOf("name: x\nclients:\n  retries: no\nkeep_data: sometimes\n")).toBe(
      [
        'workloads/x.yaml:3: clients.retries: expected true or false, got "no"',
        'workloads/x.yaml:4: keep_data: unknown value "sometimes"; known: always, failed, never',
      ].join("\n"),
    );
  });

  it("resolves a full file into a run plan", () => {
    const loaded = parseWorkload(
      [
        "name: full",
        "plugin: kv",
        "nodes: 5",
        "runtime: local",
        "seed: 7",
        "duration: 2m",
        "clients:",
        "  concurrency: 2n",
        "  rate: 300",
        "  timeout: 500ms",
        "  keys: 10",
        "  distribution: zipf",
        "  mix: { get: 3, put: 1 }",
        "nemesis:",
        "  interval: 3s",
        "  faults: [kill, loss, { latency: { delay: 50ms } }, { loss: { probability: 0.5 } }]",
        "final: { recovery: 4s }",
        "checker: { timeout: 30s }",
        "node: { unsafe: [stale-reads] }",
        "swarm: { hosts_file: hosts.yaml, hosts: [a, b], nodes_per_host: 3, image: registry.example:5000/raftlab-node:1 }",
      ].join("\n"),
      "workloads/full.yaml",
    );
    const plan = planRun(loaded, loaded.spec, kvPlugin);
    expect(plan).toEqual({
      name: "full",
      plugin: "kv",
      nodes: 5,
      runtime: "local",
      seed: 7,
      durationMs: 120_000,
      clients: { concurrency: 10, rateOpsPerSecond: 300, timeoutMs: 500, keys: 10, distribution: "zipf", mix: { get: 3, put: 1 }, retries: true },
      nemesis: {
        intervalMs: 3_000,
        faults: [{ name: "kill" }, { name: "loss", probability: 0.2 }, { name: "latency", delay: "50ms", jitter: "20ms" }, { name: "loss", probability: 0.5 }],
      },
      recoveryMs: 4_000,
      checkerTimeoutMs: 30_000,
      keepData: "failed",
      unsafe: ["stale-reads"],
      nodeFlags: [],
      // A relative hosts file is found beside the workload file.
      swarm: { hostsFile: resolve("workloads/hosts.yaml"), hosts: ["a", "b"], nodesPerHost: 3, image: "registry.example:5000/raftlab-node:1" },
    });
  });

  it("names file, line and field for an unknown fault and lists the known ones", () => {
    const text = ["name: x", "nemesis:", "  faults:", "    - kill", "    - partiton"].join("\n");
    expect(problemsOf(text)).toBe(
      'workloads/x.yaml:5: nemesis.faults[1]: unknown fault "partiton"; known: partition-halves, partition-random-halves, ' +
        "partition-one, partition-leader, partition-majorities-ring, partition-bridge, partition-one-way, loss, latency, bandwidth, " +
        "kill, kill-leader, pause, pause-leader, pause-follower, transfer-leader, membership, power-loss, failpoint, disk-stall, double-vote, figure-8, deposed-leader",
    );
  });

  it("resolves bandwidth faults with a default rate and rejects a rate tc would not read", () => {
    const loaded = parseWorkload("name: x\nnemesis:\n  faults: [bandwidth, { bandwidth: { rate: 256kbit } }]\n", "x.yaml");
    expect(planRun(loaded, loaded.spec, kvPlugin).nemesis.faults).toEqual([
      { name: "bandwidth", rate: "1mbit" },
      { name: "bandwidth", rate: "256kbit" },
    ]);
    expect(problemsOf("name: x\nnemesis:\n  faults:\n    - { bandwidth: { rate: 1 MB/s } }\n    - { bandwidth: { rate: 1kbit } }\n")).toBe(
      [
        'workloads/x.yaml:4: nemesis.faults[0].bandwidth.rate: expected a rate like "256kbit", "1mbit" or "1gbit" (units: bit, kbit, mbit, gbit per second), got "1 MB/s"',
        'workloads/x.yaml:5: nemesis.faults[1].bandwidth.rate: expected a rate from 8kbit to 100gbit, got "1kbit"',
      ].join("\n"),
    );
  });

  it("resolves compound faults and names the member at fault", () => {
    const loaded = parseWorkload("name: x\nnemesis:\n  faults: [{ all: [kill-leader, { loss: { probability: 0.5 } }] }, kill]\n", "x.yaml");
    expect(planRun(loaded, loaded.spec, kvPlugin).nemesis.faults).toEqual([
      { name: "all", members: [{ name: "kill-leader" }, { name: "loss", probability: 0.5 }], spacing: "0ms" },
      { name: "kill" },
    ]);
    expect(problemsOf("name: x\nnemesis:\n  faults:\n    - all: [kill, partiton]\n    - all: [kill]\n    - all: [kill, { all: [pause, kill] }]\n")).toBe(
      [
        'workloads/x.yaml:4: nemesis.faults[0].all[1]: unknown fault "partiton"; known: partition-halves, partition-random-halves, ' +
          "partition-one, partition-leader, partition-majorities-ring, partition-bridge, partition-one-way, loss, latency, bandwidth, " +
          "kill, kill-leader, pause, pause-leader, pause-follower, transfer-leader, membership, power-loss, failpoint, disk-stall, double-vote, figure-8, deposed-leader",
        "workloads/x.yaml:5: nemesis.faults[1].all: expected a list of at least 2 faults like { all: [partition-one, kill-leader] }",
        "workloads/x.yaml:6: nemesis.faults[2].all[1]: compound faults do not nest: list the faults directly",
      ].join("\n"),
    );
    expect(problemsOf("name: x\nnemesis:\n  faults: [{ all: [kill, { loss: { prob: 0.1 } }] }]\n")).toBe(
      'workloads/x.yaml:3: nemesis.faults[0].all[1].loss.prob: unknown field "prob"; known: probability',
    );
  });

  it("lists the known values of enums", () => {
    expect(problemsOf("name: x\nruntime: dockr\n")).toBe('workloads/x.yaml:2: runtime: unknown runtime "dockr"; known: docker, local, swarm, auto');
    expect(problemsOf("name: x\nnode:\n  unsafe: [stale-reads, fast]\n")).toBe(
      'workloads/x.yaml:3: node.unsafe[1]: unknown unsafe behaviour "fast"; known: stale-reads, ack-before-commit, vote-without-log-check, commit-previous-term, read-without-quorum, append-without-truncate, vote-not-persisted, ack-before-fsync, snapshot-without-sessions, apply-uncommitted',
    );
  });

  it("takes the node's tuning flags from the node section and checks heartbeat against election ticks", () => {
    expect(
      parseWorkload("name: x\nnode:\n  snapshot_every: 500\n  tick_ms: 10\n  election_ticks: 20\n  heartbeat_ticks: 3\n", "workloads/x.yaml").spec.node,
    ).toMatchObject({
      snapshot_every: 500,
      heartbeat_ticks: 3,
    });
    expect(problemsOf("name: x\nnode:\n  snapshot_every: 0\n")).toMatch(/node\.snapshot_every/);
    expect(problemsOf("name: x\nnode:\n  election_ticks: 5\n  heartbeat_ticks: 5\n")).toMatch(/heartbeat_ticks must be below election_ticks/);
  });

  it("rejects unknown fields, listing the known ones", () => {
    expect(problemsOf("name: x\nclients:\n  timeout: 1s\n  colour: blue\n")).toBe(
      'workloads/x.yaml:4: clients.colour: unknown field "colour"; known: concurrency, rate, timeout, keys, distribution, mix, retries',
    );
    expect(problemsOf("name: x\nnemesis:\n  faults: [{ loss: { prob: 0.1 } }, { kill: { count: 2 } }]\n")).toBe(
      [
        'workloads/x.yaml:3: nemesis.faults[0].loss.prob: unknown field "prob"; known: probability',
        'workloads/x.yaml:3: nemesis.faults[1].kill.count: fault "kill" takes no parameters',
      ].join("\n"),
    );
  });

  it("reports types, bounds, durations and missing fields, every problem in line order", () => {
    const text = ["nodes: 12", "duration: 10 seconds", "clients:", "  concurrency: 3x", "  keys: many"].join("\n");
    expect(problemsOf(text)).toBe(
      [
        "workloads/x.yaml:1: name: required field is missing (expected a string)",
        "workloads/x.yaml:1: nodes: must be at most 9, got 12",
        'workloads/x.yaml:2: duration: expected a duration like "500ms", "10s" or "2m", got "10 seconds"',
        'workloads/x.yaml:4: clients.concurrency: expected an integer from 1 to 1000 or a multiple of the node count like "2n", got "3x"',
        'workloads/x.yaml:5: clients.keys: expected a number, got "many"',
      ].join("\n"),
    );
  });

  it("rejects durations that are zero where a timer needs a delay, or past the timer limit, naming the field", () => {
    const text = [
      "name: x",
      "duration: 1000h",
      "clients: { timeout: 0ms }",
      "nemesis: { interval: 0s, faults: [{ latency: { delay: 0ms, jitter: 0ms } }, { all: [kill, pause], spacing: 600h }] }",
      "checker: { timeout: 0s }",
    ].join("\n");
    expect(problemsOf(text)).toBe(
      [
        'workloads/x.yaml:2: duration: must be at most 2147483647 ms (about 24.8 days, the timer limit), got "1000h"',
        'workloads/x.yaml:3: clients.timeout: must be longer than 0, got "0ms"',
        'workloads/x.yaml:4: nemesis.interval: must be longer than 0, got "0s"',
        'workloads/x.yaml:4: nemesis.faults[1].spacing: must be at most 2147483647 ms (about 24.8 days, the timer limit), got "600h"',
        'workloads/x.yaml:5: checker.timeout: must be longer than 0, got "0s"',
      ].join("\n"),
    );
    expect(problemsOf("name: x\nduration: 0s\n")).toBe('workloads/x.yaml:2: duration: must be longer than 0, got "0s"');
    expect(parseWorkload("name: x\nfinal: { recovery: 0s }\n", "x.yaml").spec.final.recovery).toBe("0s");
    const { spec } = parseWorkload("name: x\n", "x.yaml");
    expect(() => applyOverrides(spec, { duration: "0s" })).toThrow('command line: --duration: must be longer than 0, got "0s"');
  });

  it("refuses faults the cluster is too small for, and more clients than one harness can drive", () => {
    const single = parseWorkload(
      "name: x\nnodes: 1\nnemesis:\n  faults:\n    - kill\n    - partition-halves\n    - { all: [pause, membership] }\n",
      "workloads/x.yaml",
    );
    expect(() => planRun(single, single.spec, kvPlugin)).toThrow(
      [
        'workloads/x.yaml:6: nemesis.faults[1]: fault "partition-halves" needs at least 2 nodes; this cluster has 1',
        'workloads/x.yaml:7: nemesis.faults[2]: fault "membership" needs at least 3 nodes; this cluster has 1',
      ].join("\n"),
    );
    const two = parseWorkload("name: x\nnodes: 2\nnemesis: { faults: [partition-one, partition-bridge] }\n", "workloads/x.yaml");
    expect(() => planRun(two, two.spec, kvPlugin)).toThrow(
      'workloads/x.yaml:3: nemesis.faults[1]: fault "partition-bridge" needs at least 3 nodes; this cluster has 2',
    );
    const five = parseWorkload("name: x\nnodes: 5\nnemesis: { faults: [kill, double-vote] }\n", "workloads/x.yaml");
    expect(() => planRun(five, five.spec, kvPlugin)).toThrow(
      'workloads/x.yaml:3: nemesis.faults[1]: fault "double-vote" is scripted for at most 3 nodes; this cluster has 5',
    );
    const crowd = parseWorkload("name: x\nnodes: 9\nclients:\n  concurrency: 1000n\n", "workloads/x.yaml");
    expect(() => planRun(crowd, crowd.spec, kvPlugin)).toThrow(
      'workloads/x.yaml:4: clients.concurrency: "1000n" with 9 nodes is 9000 clients; at most 1000 in total',
    );
    const fits = parseWorkload("name: x\nnodes: 5\nclients: { concurrency: 200n }\n", "workloads/x.yaml");
    expect(planRun(fits, fits.spec, kvPlugin).clients.concurrency).toBe(1000);
  });

  it("refuses a YAML alias bomb with a one-line message", () => {
    const levels = ["name: x", 'a0: &a0 ["x","x","x","x","x","x","x","x","x"]'];
    for (let level = 1; level < 7; level += 1) {
      levels.push(`a${level}: &a${level} [${Array.from({ length: 9 }, () => `*a${level - 1}`).join(",")}]`);
    }
    expect(problemsOf(levels.join("\n"))).toBe("workloads/x.yaml:1: YAML aliases: Excessive alias count indicates a resource exhaustion attack");
  });

  it("reports YAML syntax errors and duplicate keys with their line", () => {
    expect(problemsOf("name: x\nname: y\n")).toBe("workloads/x.yaml:2: YAML syntax: Map keys must be unique");
    expect(problemsOf("- just\n- a list\n")).toBe("workloads/x.yaml:1: expected a map of workload fields (name, plugin, clients, ...)");
  });

  it("reports an unknown plugin or a missing plugin module at the plugin line", async () => {
    const unknown = parseWorkload("name: x\nplugin: kvv\n", "workloads/x.yaml");
    await expect(loadWorkloadPlugin(unknown, unknown.spec, "/tmp")).rejects.toThrow(
      /^workloads\/x\.yaml:2: plugin: unknown plugin "kvv"; built-in: kv, counter, queue/,
    );
    const missing = parseWorkload("name: x\n\nplugin: ./no-such-plugin.js\n", "workloads/x.yaml");
    await expect(loadWorkloadPlugin(missing, missing.spec, "/tmp")).rejects.toThrow(
      /^workloads\/x\.yaml:3: plugin: plugin module \/tmp\/no-such-plugin\.js \(from "\.\/no-such-plugin\.js"\): not found/,
    );
    const counter = parseWorkload("name: x\nplugin: counter\n", "workloads/x.yaml");
    expect((await loadWorkloadPlugin(counter, counter.spec, "/tmp")).name).toBe("counter");
  });

  it("checks the mix against the plugin's operations", () => {
    const loaded = parseWorkload("name: x\nclients:\n  mix:\n    get: 1\n    gett: 2\n", "workloads/x.yaml");
    expect(() => planRun(loaded, loaded.spec, kvPlugin)).toThrow(
      'workloads/x.yaml:5: clients.mix.gett: unknown operation "gett" for plugin kv; known: get, put, append, cas, delete',
    );
    const zero = parseWorkload("name: x\nclients:\n  mix: { get: 0 }\n", "workloads/x.yaml");
    expect(() => planRun(zero, zero.spec, kvPlugin)).toThrow("workloads/x.yaml:3: clients.mix: the weights must not all be 0");
  });

  it("applies command-line overrides and names the bad flag", () => {
    const { spec } = parseWorkload("name: x\n", "x.yaml");
    expect(applyOverrides(spec, { runtime: "local", seed: "42", duration: "5s" })).toMatchObject({ runtime: "local", seed: 42, duration: "5s" });
    expect(() => applyOverrides(spec, { seed: "-1", runtime: "vm" })).toThrow(
      'command line: --runtime: unknown runtime "vm"; known: docker, local, swarm, auto\ncommand line: --seed: expected a non-negative integer, got "-1"',
    );
  });

  it("names a missing file", async () => {
    await expect(readWorkloadFile("/nonexistent/w.yaml")).rejects.toThrow(/^\/nonexistent\/w\.yaml: cannot read the workload file: ENOENT/);
  });

  it("accepts the embedded default and every file in workloads/", async () => {
    expect(loadDefaultWorkload().spec.name).toBe("default");
    const files = (await readdir(workloadsDirectory)).filter((file) => file.endsWith(".yaml"));
    for (const file of files) {
      const loaded = await readWorkloadFile(join(workloadsDirectory, file));
      expect(loaded.spec.name).toBe(file.replace(/\.yaml$/, ""));
    }
  });
});
