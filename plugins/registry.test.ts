import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PluginError } from "./api.js";
import { builtinPluginNames, isPluginPath, loadPlugin } from "./registry.js";

const directory = mkdtempSync(join(tmpdir(), "raftlab-plugins-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** A plugin module that works, as JavaScript text; cases below break one piece of it. */
const goodPluginSource = `
const model = {
  init: () => 0,
  step: (state, input, outcome) => (outcome.known && outcome.value !== state ? undefined : state),
  stateKey: (state) => String(state),
  partitionKey: () => null,
  describeOperation: (input) => input.f,
  describeState: (state) => String(state),
};
const operations = { read: { readOnly: true, keyed: false, argument: () => null } };
const createStateMachine = () => ({ apply: () => 0, snapshot: () => new Uint8Array(), restore: () => {} });
`;

function writePlugin(fileName: string, source: string): string {
  const path = join(directory, fileName);
  writeFileSync(path, source);
  return path;
}

/** Loads `path` expecting BAD_PLUGIN; returns the message with the temporary directory as <dir>. */
async function badPluginMessage(nameOrPath: string, options: { cwd?: string } = {}): Promise<string> {
  const error: unknown = await loadPlugin(nameOrPath, options).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(PluginError);
  expect((error as PluginError).code).toBe("BAD_PLUGIN");
  return (error as PluginError).message.split(directory).join("<dir>");
}

describe("loadPlugin: built-in plugins", () => {
  it("loads each built-in by name, and hash-table as an alias of kv", async () => {
    expect(builtinPluginNames).toEqual(["kv", "counter", "queue"]);
    for (const name of builtinPluginNames) {
      expect((await loadPlugin(name)).name).toBe(name);
    }
    expect(await loadPlugin("hash-table")).toBe(await loadPlugin("kv"));
  });

  it("names the known plugins when the name is unknown", async () => {
    expect(await badPluginMessage("kvv")).toBe(
      'unknown plugin "kvv"; built-in: kv, counter, queue, hash-table (= kv); ' +
        'or give a path to a plugin module (containing "/" or ending in .js, .mjs or .ts)',
    );
  });

  it("treats names with a slash or a module extension as paths", () => {
    expect(isPluginPath("kv")).toBe(false);
    expect(isPluginPath("./kv")).toBe(true);
    expect(isPluginPath("my-plugin.mjs")).toBe(true);
    expect(isPluginPath("my-plugin.ts")).toBe(true);
    expect(isPluginPath("my-plugin.js")).toBe(true);
  });
});

describe("loadPlugin: plugin modules by path", () => {
  it("loads a default export, resolving a relative path from cwd", async () => {
    writePlugin("good.mjs", `${goodPluginSource}\nexport default { name: "good", description: "", operations, createStateMachine, model };\n`);
    const plugin = await loadPlugin("./good.mjs", { cwd: directory });
    expect(plugin.name).toBe("good");
    expect(plugin.createStateMachine().apply({ f: "read", value: null })).toBe(0);
  });

  it("loads an export named plugin when there is no default export", async () => {
    const path = writePlugin(
      "named.mjs",
      `${goodPluginSource}\nexport const plugin = { name: "named", description: "", operations, createStateMachine, model };\n`,
    );
    expect((await loadPlugin(path)).name).toBe("named");
  });

  it("names the path tried when the file is missing", async () => {
    expect(await badPluginMessage("./missing.mjs", { cwd: directory })).toBe('plugin module <dir>/missing.mjs (from "./missing.mjs"): not found');
    expect(await badPluginMessage(join(directory, "missing.js"))).toBe("plugin module <dir>/missing.js: not found");
  });

  it("names the path and the error when the module does not import (syntax error)", async () => {
    const path = writePlugin("syntax-error.mjs", "export default { name: ;\n");
    const message = await badPluginMessage(path);
    expect(message.startsWith("plugin module <dir>/syntax-error.mjs: cannot import: ")).toBe(true);
  });

  it("names the path when the module exports no plugin", async () => {
    const path = writePlugin("no-export.mjs", "export const helper = 1;\n");
    expect(await badPluginMessage(path)).toBe(
      'plugin module <dir>/no-export.mjs: no plugin export: expected a default export (or an export named "plugin"); the module exports helper',
    );
  });

  const brokenCases: [string, string, string][] = [
    [
      "missing-model",
      `{ name: "x", description: "", operations, createStateMachine }`,
      'field "model" must be an object {init, step, stateKey, partitionKey, describeOperation, describeState}, got nothing',
    ],
    [
      "step-not-function",
      `{ name: "x", description: "", operations, createStateMachine, model: { ...model, step: 3 } }`,
      'field "model.step" must be a function, got 3',
    ],
    ["missing-name", `{ description: "", operations, createStateMachine, model }`, 'field "name" must be a non-empty string, got nothing'],
    [
      "no-operations",
      `{ name: "x", description: "", operations: {}, createStateMachine, model }`,
      'field "operations" must be an object with at least one operation spec, got an object',
    ],
    [
      "read-only-missing",
      `{ name: "x", description: "", operations: { read: { keyed: false, argument: () => null } }, createStateMachine, model }`,
      'field "operations.read.readOnly" must be a boolean, got nothing',
    ],
    [
      "argument-not-function",
      `{ name: "x", description: "", operations: { read: { readOnly: true, keyed: false, argument: null } }, createStateMachine, model }`,
      'field "operations.read.argument" must be a function, got null',
    ],
    ["factory-missing", `{ name: "x", description: "", operations, model }`, 'field "createStateMachine" must be a function, got nothing'],
    [
      "factory-throws",
      `{ name: "x", description: "", operations, model, createStateMachine: () => { throw new Error("no disk"); } }`,
      "createStateMachine() threw: no disk",
    ],
    [
      "machine-without-restore",
      `{ name: "x", description: "", operations, model, createStateMachine: () => ({ apply() {}, snapshot() {} }) }`,
      'createStateMachine() returned an object whose "restore" must be a function, got nothing',
    ],
    [
      "state-key-not-string",
      `{ name: "x", description: "", operations, createStateMachine, model: { ...model, stateKey: (state) => state } }`,
      "model.stateKey(model.init()) must return a string, got 0",
    ],
  ];
  for (const [fileName, exported, problem] of brokenCases) {
    it(`refuses a plugin with a bad field: ${fileName}`, async () => {
      const path = writePlugin(`${fileName}.mjs`, `${goodPluginSource}\nexport default ${exported};\n`);
      expect(await badPluginMessage(path)).toBe(`plugin module <dir>/${fileName}.mjs: ${problem}`);
    });
  }

  it("refuses a directory", async () => {
    expect(await badPluginMessage(`${directory}/`)).toBe("plugin module <dir>: not a file");
  });
});
