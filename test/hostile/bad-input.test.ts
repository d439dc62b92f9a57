// Hostile and careless input to the built CLI, none of which needs a cluster: each case is refused
// with exit 254 (or, where a verdict exists, keeps it), one message naming the file, line or field,
// no stack trace, no false VALID, and nothing left behind: no node process, no temp directory, no
// half-written results folder. Every input here once crashed, hung or was wrongly accepted.
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/run-cli.js";
import { expectRefusal, useSandbox, type Sandbox } from "./hostile-support.js";

let sandbox: Sandbox;
useSandbox((created) => (sandbox = created));

/** `raftlab run` of a workload (local runtime: a mistake here must not reach Docker either). */
async function run(yaml: string, ...flags: string[]): Promise<{ path: string; result: Awaited<ReturnType<typeof runCli>> }> {
  const path = await sandbox.file("workload.yaml", yaml);
  const out = join(sandbox.inputs, "out");
  const result = await runCli(["run", path, "--runtime", "local", "--out", out, ...flags], { env: sandbox.env, timeoutMs: 60_000 });
  // A refused run writes nothing: not even an empty results folder.
  await expect(stat(out)).rejects.toMatchObject({ code: "ENOENT" });
  return { path, result };
}

const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

describe("raftlab run refuses before anything starts", () => {
  it("a YAML alias bomb", async () => {
    const levels = ["name: bomb", 'a0: &a0 ["x","x","x","x","x","x","x","x","x"]'];
    for (let level = 1; level < 9; level += 1) {
      levels.push(`a${level}: &a${level} [${Array.from({ length: 9 }, () => `*a${level - 1}`).join(",")}]`);
    }
    const { path, result } = await run(levels.join("\n"));
    expectRefusal(result, 254, new RegExp(`^${escaped(path)}:1: YAML aliases: `, "m"));
  });

  it.each([
    ["clients.timeout: 0ms", "name: x\nclients:\n  timeout: 0ms\n", 3, "clients.timeout", "must be longer than 0"],
    ["nemesis.interval: 0ms", "name: x\nnemesis:\n  interval: 0ms\n  faults: [kill]\n", 3, "nemesis.interval", "must be longer than 0"],
    ["duration: 0s", "name: x\nduration: 0s\n", 2, "duration", "must be longer than 0"],
    ["duration: 1000h (past the timer limit)", "name: x\nduration: 1000h\n", 2, "duration", "must be at most 2147483647 ms"],
    [
      "partitions on 1 node",
      "name: x\nnodes: 1\nnemesis: { faults: [kill, partition-one] }\n",
      3,
      "nemesis.faults\\[1\\]",
      'fault "partition-one" needs at least 2 nodes',
    ],
    [
      "membership on 2 nodes",
      "name: x\nnodes: 2\nnemesis: { faults: [membership] }\n",
      3,
      "nemesis.faults\\[0\\]",
      'fault "membership" needs at least 3 nodes',
    ],
    ["9,000 clients", "name: x\nnodes: 9\nclients: { concurrency: 1000n }\n", 3, "clients.concurrency", "is 9000 clients; at most 1000"],
  ])("%s", async (_name, yaml, line, field, message) => {
    const { path, result } = await run(yaml);
    expectRefusal(result, 254, new RegExp(`^${escaped(path)}:${line}: ${field}: .*${escaped(message)}`, "m"));
  });

  it("--duration 0s on the command line", async () => {
    const { result } = await run("name: x\n", "--duration", "0s");
    expectRefusal(result, 254, /^command line: --duration: must be longer than 0, got "0s"$/m);
  });

  it("--out naming an existing file, a directory with something in it, or a place that cannot be created", async () => {
    const workload = await sandbox.file("workload.yaml", "name: x\n");
    const existingFile = await sandbox.file("results.txt", "keep me\n");
    const full = join(sandbox.inputs, "full");
    await mkdir(full);
    await writeFile(join(full, "history.jsonl"), "{}\n");
    const cases: [string, RegExp][] = [
      [existingFile, /^raftlab run: --out: .*results\.txt exists and is not a directory$/m],
      [full, /^raftlab run: --out: .*full is not empty/m],
      // Node's own recursive mkdir never returns on this path.
      ["/proc/raftlab-x/run", /^raftlab run: --out: cannot create \/proc\/raftlab-x\/run: ENOENT/m],
    ];
    for (const [out, message] of cases) {
      const result = await runCli(["run", workload, "--runtime", "local", "--out", out], { env: sandbox.env, timeoutMs: 30_000 });
      expectRefusal(result, 254, message);
    }
    expect(await readdir(full)).toEqual(["history.jsonl"]);
  });

  it('a .ts plugin outside a "type": "module" package, with advice instead of a missing-field message', async () => {
    const directory = join(sandbox.inputs, "plugin");
    await mkdir(directory);
    await writeFile(join(directory, "my-plugin.ts"), "const plugin = { name: 'p' };\nexport default plugin;\n");
    const { path, result } = await run(`name: x\nplugin: ${join(directory, "my-plugin.ts")}\n`);
    expectRefusal(result, 254, new RegExp(`^${escaped(path)}:2: plugin: .*my-plugin\\.ts: loaded as CommonJS .*"type": "module"`, "m"));
  });
});

describe("raftlab check refuses bad histories, or keeps its verdict", () => {
  const putThenGet = (put: string, got: string): string =>
    [
      `{"index":0,"time":0,"type":"invoke","process":0,"f":"put","key":"a","value":${put}}`,
      `{"index":1,"time":1,"type":"ok","process":0,"f":"put","key":"a","value":null}`,
      `{"index":2,"time":2,"type":"invoke","process":0,"f":"get","key":"a","value":null}`,
      `{"index":3,"time":3,"type":"ok","process":0,"f":"get","key":"a","value":${got}}`,
      "",
    ].join("\n");

  async function check(history: string | Buffer, ...flags: string[]): Promise<{ path: string; result: Awaited<ReturnType<typeof runCli>> }> {
    const path = await sandbox.file("history.jsonl", history);
    return { path, result: await runCli(["check", path, ...flags], { env: sandbox.env, timeoutMs: 60_000 }) };
  }

  it('invalid UTF-8: "\\xff" and "\\xfe" are not the same value', async () => {
    const bytes = Buffer.from(putThenGet('"\u0001"', '"\u0002"'), "latin1");
    bytes[bytes.indexOf(1)] = 0xff;
    bytes[bytes.indexOf(2)] = 0xfe;
    const { path, result } = await check(bytes);
    expectRefusal(result, 254, new RegExp(`^raftlab check: ${escaped(path)}:1: not valid UTF-8 \\(byte 0xff at byte \\d+ of the line\\)`, "m"));
  });

  it("a 100,000-deep JSON value", async () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const { path, result } = await check(putThenGet(deep, "null"));
    expectRefusal(result, 254, new RegExp(`^raftlab check: ${escaped(path)}:1: field "value": nested more than 256 levels deep$`, "m"));
  });

  it("kv with integer values: refused as not a kv history, not called a violation", async () => {
    const { path, result } = await check(putThenGet("1", "1"));
    expectRefusal(
      result,
      254,
      new RegExp(`^raftlab check: ${escaped(path)}:1: put "a" 1 -> null completed ok, but the kv plugin refuses that operation \\(BAD_ARGUMENT: `, "m"),
    );
    expect(result.stdout).toBe("");
  });

  it("--html into a missing directory is refused before the check; nothing is written", async () => {
    const html = join(sandbox.inputs, "no-such-directory", "view.html");
    const { result } = await check(putThenGet('"1"', '"1"'), "--html", html);
    expectRefusal(result, 254, /^raftlab check: --html: cannot write .*view\.html: the directory .*no-such-directory does not exist$/m);
  });

  it("a plugin model whose step throws, and one whose describeOperation throws", async () => {
    const directory = join(sandbox.inputs, "plugins");
    await mkdir(directory);
    await writeFile(join(directory, "package.json"), '{ "type": "module" }\n');
    const kvPath = join(process.cwd(), "dist", "plugins", "kv", "index.js");
    const variant = (name: string, override: string): string =>
      `import { kvPlugin } from ${JSON.stringify(kvPath)};\n` +
      `export default { ...kvPlugin, name: ${JSON.stringify(name)}, model: { ...kvPlugin.model, ${override} } };\n`;
    await writeFile(join(directory, "step-throws.js"), variant("step-throws", "step() { throw new Error('step exploded'); }"));
    await writeFile(join(directory, "describe-throws.js"), variant("describe-throws", "describeOperation() { throw new RangeError('cannot describe'); }"));

    const stepThrows = await check(putThenGet('"1"', '"1"'), "--plugin", join(directory, "step-throws.js"));
    expectRefusal(stepThrows.result, 254, /^raftlab check: plugin .*step-throws\.js: its model threw while checking: step exploded$/m);

    // The verdict survives a model that cannot describe its operations.
    const describeThrows = await check(putThenGet('"1"', '"2"'), "--plugin", join(directory, "describe-throws.js"));
    expect(describeThrows.result.stderr).toBe("");
    expect(describeThrows.result.stdout).toMatch(/: NOT linearizable/);
    expect(describeThrows.result.stdout).toMatch(/describeOperation threw: cannot describe/);
    expect(describeThrows.result.code).toBe(1);
  });

  it("a reader that goes away (check | head) does not turn the verdict into exit 1", async () => {
    const path = await sandbox.file("history.jsonl", putThenGet('"1"', '"1"'));
    const result = await runCli(["check", path, "--json"], { env: sandbox.env, closeStdout: true, timeoutMs: 60_000 });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });
});
