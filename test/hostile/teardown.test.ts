// Hostile endings of real (short, local) runs: a harness killed with SIGKILL or hung up on leaves
// no node process and, after `raftlab clean`, no data directory; a workload whose writes all fail
// is not called valid even when nobody reads its output. Each run lives in a private TMPDIR, so
// "nothing left" is exact whatever else runs on the machine.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { findLocalNodeProcesses } from "../../harness/runtime/local/leftovers.js";
import { projectRoot, runCli, summaryOf } from "../support/run-cli.js";
import { useSandbox, type Sandbox } from "./hostile-support.js";

let sandbox: Sandbox;
useSandbox((created) => (sandbox = created));

const longRun = "name: hostile-long\nplugin: kv\nnodes: 3\nduration: 60s\nclients: { concurrency: 2 }\n";

/** Starts a long local run and sends `signal` once clients got answers. */
async function interruptedRun(signal: NodeJS.Signals): Promise<{ run: Awaited<ReturnType<typeof runCli>>; out: string; sent: boolean }> {
  const path = await sandbox.file("workload.yaml", longRun);
  const out = join(sandbox.inputs, "out");
  let sent = false;
  const run = await runCli(["run", path, "--runtime", "local", "--out", out], {
    env: sandbox.env,
    timeoutMs: 90_000,
    onStderr: (text, send) => {
      if (!sent && /\] main +ok [1-9]/.test(text)) {
        sent = true;
        send(signal);
      }
    },
  });
  return { run, out, sent };
}

async function waitUntilNoNodes(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await findLocalNodeProcesses(sandbox.temporary)).length > 0 && Date.now() < deadline) {
    await sleep(100);
  }
}

describe("local runs end cleanly however the harness ends", () => {
  it("SIGKILL of the harness: its nodes stop by themselves, and clean removes the data directory", async () => {
    const { run, out, sent } = await interruptedRun("SIGKILL");
    expect(sent, `the run ended (exit ${String(run.code)}) before any ok operation:\n${run.stderr}`).toBe(true);
    expect(run.signal).toBe("SIGKILL");
    // The kernel closed the nodes' stdin pipe; --exit-with-parent makes each stop.
    await waitUntilNoNodes(15_000);
    expect(await findLocalNodeProcesses(sandbox.temporary)).toEqual([]);
    const firstLine = (await readFile(join(out, "nodes", "node-1.log"), "utf8")).split("\n")[0] ?? "";
    const runId = /"--cluster-id","([^"]+)"/.exec(firstLine)?.[1];
    expect(runId).toBeDefined();
    const clean = await runCli(["clean", "--run", runId!], { env: sandbox.env, timeoutMs: 60_000 });
    expect(clean.stdout).toContain(`removed local data directory ${join(sandbox.temporary, `raftlab-${runId!}`)}`);
    expect(clean.code).toBe(0);
  });

  it("SIGHUP (a closed terminal) tears the cluster down like Ctrl-C", async () => {
    const { run, sent } = await interruptedRun("SIGHUP");
    expect(sent, `the run ended (exit ${String(run.code)}) before any ok operation:\n${run.stderr}`).toBe(true);
    expect(run.stderr).toMatch(/SIGHUP: stopping, destroying the cluster/);
    expect(run.code).toBe(255);
    expect(await findLocalNodeProcesses(sandbox.temporary)).toEqual([]);
  });
});

describe("no false VALID from a real run", () => {
  it("a plugin whose every put fails is INVALID (Jepsen's stats rule), and stays exit 1 when stdout is closed", async () => {
    const directory = join(sandbox.inputs, "plugin");
    await mkdir(directory);
    await writeFile(join(directory, "package.json"), '{ "type": "module" }\n');
    const dist = (file: string): string => JSON.stringify(join(projectRoot, "dist", "plugins", file));
    await writeFile(
      join(directory, "failing-puts.js"),
      [
        `import { PluginError } from ${dist("api.js")};`,
        `import { kvPlugin } from ${dist("kv/index.js")};`,
        "// kv whose state machine refuses every put: each one fails, and gets keep answering.",
        "export default {",
        "  ...kvPlugin,",
        '  name: "failing-puts",',
        "  createStateMachine() {",
        "    const machine = kvPlugin.createStateMachine();",
        "    return {",
        "      apply(op) {",
        '        if (op.f === "put") throw new PluginError("BAD_ARGUMENT", "this plugin refuses every put");',
        "        return machine.apply(op);",
        "      },",
        "      snapshot: () => machine.snapshot(),",
        "      restore: (bytes) => machine.restore(bytes),",
        "    };",
        "  },",
        "};",
        "",
      ].join("\n"),
    );
    const path = await sandbox.file(
      "workload.yaml",
      [
        "name: failing-puts",
        `plugin: ${join(directory, "failing-puts.js")}`,
        "nodes: 3",
        "duration: 3s",
        "clients: { concurrency: 2, mix: { get: 1, put: 1 } }",
        "final: { recovery: 1s }",
      ].join("\n"),
    );
    const out = join(sandbox.inputs, "out");
    const run = await runCli(["run", path, "--runtime", "local", "--out", out], { env: sandbox.env, closeStdout: true, timeoutMs: 90_000 });
    expect(run.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(run.code, run.stderr).toBe(1);
    const summary = await summaryOf(out);
    expect(summary).toMatchObject({ valid: false, exit_code: 1, checks: { stats: { valid: false } } });
    expect((summary["checks"] as { stats: { reason: string } }).stats.reason).toMatch(/^no operation succeeded for put \(\d+ invoked: \d+ fail, 0 info\)$/);
  });
});
