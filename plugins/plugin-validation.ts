// Checks a third-party plugin module's export before raftlab trusts it: every field the contract
// in api.ts needs, with the right type, and a smoke test that the two factories (a state machine
// and the model's initial state) work. Each failure is a BAD_PLUGIN error naming the module and the field.
import { PluginError, type Plugin } from "./api.js";
import { describeJsonType } from "./argument-checks.js";

const modelFunctions = ["init", "step", "stateKey", "partitionKey", "describeOperation", "describeState"] as const;
const stateMachineFunctions = ["apply", "snapshot", "restore"] as const;

/** Returns the plugin a module exports (default, else `plugin`), or throws BAD_PLUGIN. */
export function pluginFromModule(exports: Record<string, unknown>, source: string): Plugin {
  const candidate = exports["default"] ?? exports["plugin"];
  if (candidate === undefined) {
    const names = Object.keys(exports);
    throw new PluginError(
      "BAD_PLUGIN",
      `${source}: no plugin export: expected a default export (or an export named "plugin"); ` +
        `the module exports ${names.length === 0 ? "nothing" : names.join(", ")}`,
    );
  }
  return validatePlugin(candidate, source);
}

export function validatePlugin(candidate: unknown, source: string): Plugin {
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new PluginError("BAD_PLUGIN", `${source}: field "${field}" must be ${expected}, got ${describeValue(got)}`);
  };
  if (!isObject(candidate)) {
    return fail("default export", "a plugin object", candidate);
  }
  if (typeof candidate["name"] !== "string" || candidate["name"].length === 0) {
    fail("name", "a non-empty string", candidate["name"]);
  }
  if (typeof candidate["description"] !== "string") {
    fail("description", "a string", candidate["description"]);
  }
  const operations = candidate["operations"];
  if (!isObject(operations) || Object.keys(operations).length === 0) {
    fail("operations", "an object with at least one operation spec", operations);
  }
  for (const [f, spec] of Object.entries(operations as Record<string, unknown>)) {
    if (!isObject(spec)) {
      fail(`operations.${f}`, "an object {readOnly, keyed, argument}", spec);
    }
    const fields = spec as Record<string, unknown>;
    if (typeof fields["readOnly"] !== "boolean") {
      fail(`operations.${f}.readOnly`, "a boolean", fields["readOnly"]);
    }
    if (typeof fields["keyed"] !== "boolean") {
      fail(`operations.${f}.keyed`, "a boolean", fields["keyed"]);
    }
    if (typeof fields["argument"] !== "function") {
      fail(`operations.${f}.argument`, "a function", fields["argument"]);
    }
  }
  if (typeof candidate["createStateMachine"] !== "function") {
    fail("createStateMachine", "a function", candidate["createStateMachine"]);
  }
  const model = candidate["model"];
  if (!isObject(model)) {
    fail("model", "an object {init, step, stateKey, partitionKey, describeOperation, describeState}", model);
  }
  for (const name of modelFunctions) {
    const member = (model as Record<string, unknown>)[name];
    if (typeof member !== "function") {
      fail(`model.${name}`, "a function", member);
    }
  }
  // Optional hooks: absent is fine, present must be callable.
  const prepareHistory = (model as Record<string, unknown>)["prepareHistory"];
  if (prepareHistory !== undefined && typeof prepareHistory !== "function") {
    fail("model.prepareHistory", "a function when present", prepareHistory);
  }
  const plugin = candidate as unknown as Plugin;
  smokeTest(plugin, source);
  return plugin;
}

/** Builds one state machine and the model's initial state, so a broken factory fails at load time. */
function smokeTest(plugin: Plugin, source: string): void {
  const machine: unknown = call(() => plugin.createStateMachine(), source, "createStateMachine()");
  if (!isObject(machine)) {
    throw new PluginError("BAD_PLUGIN", `${source}: createStateMachine() must return an object, got ${describeValue(machine)}`);
  }
  for (const name of stateMachineFunctions) {
    if (typeof machine[name] !== "function") {
      throw new PluginError(
        "BAD_PLUGIN",
        `${source}: createStateMachine() returned an object whose "${name}" must be a function, got ${describeValue(machine[name])}`,
      );
    }
  }
  const initial = call(() => plugin.model.init(), source, "model.init()");
  const key: unknown = call(() => plugin.model.stateKey(initial), source, "model.stateKey(model.init())");
  if (typeof key !== "string") {
    throw new PluginError("BAD_PLUGIN", `${source}: model.stateKey(model.init()) must return a string, got ${describeValue(key)}`);
  }
}

function call<T>(action: () => T, source: string, what: string): T {
  try {
    return action();
  } catch (error) {
    throw new PluginError("BAD_PLUGIN", `${source}: ${what} threw: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null;
}

function describeValue(value: unknown): string {
  if (typeof value === "function") {
    return "a function";
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    return "an object";
  }
  return describeJsonType(value);
}
