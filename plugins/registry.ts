// Finds a plugin by name or path: the built-in ones by name, anything that looks like a path
// (contains "/", or ends in .js/.mjs/.ts and friends) is imported from disk and validated.
import { stat } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
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
}

export async function loadPlugin(nameOrPath: string, options: LoadPluginOptions = {}): Promise<Plugin> {
  if (isPluginPath(nameOrPath)) {
    return loadPluginModule(resolve(options.cwd ?? process.cwd(), nameOrPath), nameOrPath);
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

async function loadPluginModule(path: string, asGiven: string): Promise<Plugin> {
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
    exports = await importModule(path);
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    throw new PluginError("BAD_PLUGIN", `${source}: cannot import: ${message}`, { cause: error });
  }
  return pluginFromModule(exports, source);
}

/**
 * Imports a module file. Plain Node 20 (the compiled CLI) cannot import TypeScript, so a .ts
 * plugin that Node refuses goes through tsx (a raftlab dependency); under tsx or vitest the
 * first import already works.
 */
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
