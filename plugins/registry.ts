// Finds a plugin by name or path: the built-in ones by name, anything that looks like a path
// (contains "/", or ends in .js/.mjs/.ts and friends) is imported from disk and validated.
import { stat } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { PluginError, type Plugin } from "./api.js";
import { pluginFromModule } from "./plugin-validation.js";

/** Built-in plugins, each imported only when asked for. */
const builtinLoaders: Readonly<Record<string, () => Promise<Plugin>>> = {
  kv: async () => (await import("./kv/index.js")).kvPlugin as Plugin,
  counter: async () => (await import("./counter/index.js")).counterPlugin as Plugin,
  queue: async () => (await import("./queue/index.js")).queuePlugin as Plugin,
};

/** Other names accepted for built-in plugins. */
const builtinAliases: Readonly<Record<string, string>> = { "hash-table": "kv" };

export const builtinPluginNames: readonly string[] = Object.keys(builtinLoaders);

/** True when `nameOrPath` names a module on disk rather than a built-in plugin. */
export function isPluginPath(nameOrPath: string): boolean {
  return nameOrPath.includes("/") || nameOrPath.includes("\\") || /\.(c|m)?(j|t)s$/.test(nameOrPath);
}

export interface LoadPluginOptions {
  /** The directory a relative plugin path is resolved from; the process's cwd by default. */
  cwd?: string;
  /**
   * Deadline for importing a plugin module (default 30 s, or $RAFTLAB_PLUGIN_LOAD_TIMEOUT_MS): a
   * top-level await that never settles would otherwise end the process with exit 0 and no output.
   */
  loadTimeoutMs?: number;
}

const DEFAULT_LOAD_TIMEOUT_MS = 30_000;
/** Exit code when a plugin module ends the process while it loads (bad input, like every load failure). */
const EXIT_DURING_LOAD = 254;

export async function loadPlugin(nameOrPath: string, options: LoadPluginOptions = {}): Promise<Plugin> {
  if (isPluginPath(nameOrPath)) {
    return loadPluginModule(resolve(options.cwd ?? process.cwd(), nameOrPath), nameOrPath, loadTimeoutMs(options));
  }
  const loader = builtinLoaders[builtinAliases[nameOrPath] ?? nameOrPath];
  if (loader === undefined) {
    const aliases = Object.entries(builtinAliases).map(([alias, name]) => `${alias} (= ${name})`);
    throw new PluginError(
      "BAD_PLUGIN",
      `unknown plugin "${nameOrPath}"; built-in: ${[...builtinPluginNames, ...aliases].join(", ")}; ` +
        `or give a path to a plugin module (containing "/" or ending in .js, .mjs or .ts)`,
    );
  }
  return loader();
}

function loadTimeoutMs(options: LoadPluginOptions): number {
  const fromEnvironment = Number(process.env["RAFTLAB_PLUGIN_LOAD_TIMEOUT_MS"]);
  const timeoutMs = options.loadTimeoutMs ?? (fromEnvironment > 0 ? fromEnvironment : DEFAULT_LOAD_TIMEOUT_MS);
  if (!(Number.isSafeInteger(timeoutMs) && timeoutMs > 0 && timeoutMs <= 2_147_483_647)) {
    throw new RangeError(`loadPlugin: loadTimeoutMs must be a positive integer of milliseconds, got ${timeoutMs}`);
  }
  return timeoutMs;
}

async function loadPluginModule(path: string, asGiven: string, timeoutMs: number): Promise<Plugin> {
  const source = `plugin module ${path}`;
  const tried = asGiven === path || isAbsolute(asGiven) ? "" : ` (from "${asGiven}")`;
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "not found" : `cannot be read (${code ?? (error as Error).message})`;
    throw new PluginError("BAD_PLUGIN", `${source}${tried}: ${reason}`, { cause: error });
  }
  if (!isFile) {
    throw new PluginError("BAD_PLUGIN", `${source}${tried}: not a file`);
  }
  let exports: Record<string, unknown>;
  try {
    exports = await importWithin(path, timeoutMs, source);
  } catch (error) {
    if (error instanceof PluginError) {
      throw error;
    }
    const message = (error as Error)?.message ?? String(error);
    throw new PluginError("BAD_PLUGIN", `${source}: cannot import: ${message}`, { cause: error });
  }
  const notModule = await commonJsTypeScriptProblem(path, exports);
  if (notModule !== undefined) {
    throw new PluginError("BAD_PLUGIN", `${source}: ${notModule}`);
  }
  return pluginFromModule(exports, source);
}

/**
 * A .ts file is an ES module only inside a package whose package.json says "type": "module"
 * (as for .js); elsewhere tsx compiles it to CommonJS, and its `export default` arrives one level
 * down as `default.default`. Without this, the message would be about a missing field "name".
 */
async function commonJsTypeScriptProblem(path: string, exports: Record<string, unknown>): Promise<string | undefined> {
  const wrapped = exports["default"];
  const isCommonJs =
    /\.(c)?ts$/.test(path) &&
    typeof wrapped === "object" &&
    wrapped !== null &&
    ((wrapped as Record<string, unknown>)["__esModule"] === true || "default" in wrapped || "plugin" in wrapped);
  if (!isCommonJs) {
    return undefined;
  }
  const manifest = await nearestPackageJson(dirname(path));
  const where = manifest === undefined ? "no package.json above it" : `${manifest} has no "type": "module"`;
  return (
    `loaded as CommonJS (${where}), so its exports are not seen: put a package.json with ` +
    `{ "type": "module" } in the plugin's directory, or name the file .mts`
  );
}

async function nearestPackageJson(directory: string): Promise<string | undefined> {
  for (let current = directory; ; current = dirname(current)) {
    const candidate = join(current, "package.json");
    if (await stat(candidate).then((found) => found.isFile(), () => false)) {
      return candidate;
    }
    if (dirname(current) === current) {
      return undefined;
    }
  }
}

/**
 * Imports a module file. Plain Node 20 (the compiled CLI) cannot import TypeScript, so a .ts
 * plugin that Node refuses goes through tsx (a raftlab dependency); under tsx or vitest the
 * first import already works.
 */
/**
 * Imports the module under a deadline (the timer also keeps the process alive, so a top-level
 * await that never settles is reported instead of ending the process with exit 0), and turns a
 * process.exit() during the import into exit 254 with a message naming the module.
 */
async function importWithin(path: string, timeoutMs: number, source: string): Promise<Record<string, unknown>> {
  const onExit = (code: number): void => {
    process.stderr.write(`raftlab: ${source} ended the process (exit code ${code}) while it was being loaded; a plugin module must not exit\n`);
    process.exitCode = EXIT_DURING_LOAD;
  };
  process.on("exit", onExit);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PluginError("BAD_PLUGIN", `${source}: did not finish loading within ${timeoutMs} ms (a top-level await that never settles?)`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([importModule(path), deadline]);
  } finally {
    clearTimeout(timer);
    process.off("exit", onExit);
  }
}

async function importModule(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if (!/\.(c|m)?ts$/.test(path) || (error as NodeJS.ErrnoException)?.code !== "ERR_UNKNOWN_FILE_EXTENSION") {
      throw error;
    }
    const { tsImport } = await import("tsx/esm/api");
    return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
}
