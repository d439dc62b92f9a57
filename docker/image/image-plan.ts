// What goes into the node image (see docker-image.ts): the host tools and their libraries, dist/,
// bin/ and the npm packages the node command imports, gathered before anything is copied so the
// whole can be hashed into the image's tag.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { builtinModules } from "node:module";
import { dirname, join, relative } from "node:path";
import { DockerRuntimeError } from "./docker-error.js";
import { libraryClosure } from "./elf.js";
import { findHostBinary, sharedLibraries } from "./rootfs.js";

/** Bump when the recipe changes in a way the input hash cannot see. */
const recipeVersion = "raftlab-node-rootfs-2";
export const appDirectory = "/app";
/** Files of dist/ and bin/ worth shipping: code and JSON (no source maps). */
const shippedProjectFile = (path: string): boolean => /\.(js|cjs|mjs|json)$/.test(path);
/**
 * Files of npm packages worth shipping: everything but docs, types, sources and maps, so native
 * binaries without an extension (esbuild's, which tsx needs for .ts plugins) come along.
 */
const shippedPackageFile = (path: string): boolean => !/\.(md|markdown|map|ts|mts|cts|tsx)$/i.test(path);
export const shippedFile = (tree: AppTree, path: string): boolean => (tree.kind === "project" ? shippedProjectFile(path) : shippedPackageFile(path));
/**
 * A project tree (dist/, bin/) counts by content in the hash: tsc rewrites every file on each
 * build, so mtimes would change every time. A package counts by size and mtime: npm leaves them
 * alone between installs, and some are large (esbuild's binary is 10 MB).
 */
export interface AppTree {
  hostDirectory: string;
  rootfsDirectory: string;
  kind: "project" | "package";
}

/** Everything that goes into the image, gathered before anything is copied so it can be hashed. */
export interface ImagePlan {
  root: string;
  /** Host files copied to the same path, symlink chains kept (tools, libraries, xtables modules). */
  hostPaths: string[];
  nodeBinary: string;
  /** The xtables multi-call binary that `iptables` links to. */
  xtablesBinary: string;
  /** Generated files: rootfs path -> content. */
  generated: Map<string, string>;
  /** Host trees copied under /app: dist/, bin/ and the npm packages the node command imports. */
  appTrees: AppTree[];
}

export async function planImage(root: string, signal: AbortSignal | undefined): Promise<ImagePlan> {
  const nodeBinary = process.execPath;
  const xtablesBinary = await findHostBinary(["xtables-nft-multi", "xtables-legacy-multi"]);
  const tools = [xtablesBinary, await findHostBinary(["tc"]), await findHostBinary(["ip"]), "/bin/sh"];
  const toolLibraries = await sharedLibraries({ required: [nodeBinary, ...tools], optional: [] }, signal);
  // xtables modules (libxt_statistic.so, ...) live next to libxtables in an `xtables` directory.
  const libxtables = toolLibraries.find((path) => /\/libxtables\.so/.test(path));
  const moduleDirectory = libxtables === undefined ? undefined : join(dirname(libxtables), "xtables");
  const modules =
    moduleDirectory !== undefined && existsSync(moduleDirectory)
      ? (await readdir(moduleDirectory)).filter((name) => name.endsWith(".so")).map((name) => join(moduleDirectory, name))
      : [];
  if (modules.length === 0) {
    throw new DockerRuntimeError("DOCKER_IMAGE_FAILED", `no xtables modules next to ${libxtables ?? "libxtables (not linked by iptables?)"}`);
  }
  const libraryDirectories = [...new Set(toolLibraries.map((path) => dirname(path)))];
  const moduleLibraries = (await libraryClosure(modules, libraryDirectories)).found;
  const hostPaths = [...new Set([...tools, ...toolLibraries, ...moduleLibraries, moduleDirectory as string])];
  for (const optionalFile of ["/etc/protocols", "/etc/services", "/usr/lib/tc"]) {
    if (existsSync(optionalFile)) {
      hostPaths.push(optionalFile);
    }
  }
  const distDirectory = join(root, "dist");
  const packages = await runtimePackages(root, [join(distDirectory, "node"), join(distDirectory, "plugins")]);
  return {
    root,
    hostPaths,
    nodeBinary,
    xtablesBinary,
    generated: generatedFiles(root),
    appTrees: [
      // The node command needs node/, plugins/ and lib/ only (imports run one way); the harness,
      // checker and CLI stay out of the image.
      ...["node", "plugins", "lib"].map((part) => ({
        hostDirectory: join(distDirectory, part),
        rootfsDirectory: `${appDirectory}/dist/${part}`,
        kind: "project" as const,
      })),
      { hostDirectory: join(root, "bin"), rootfsDirectory: `${appDirectory}/bin`, kind: "project" },
      ...packages.map((name) => ({
        hostDirectory: join(root, "node_modules", name),
        rootfsDirectory: `${appDirectory}/node_modules/${name}`,
        kind: "package" as const,
      })),
    ],
  };
}

function generatedFiles(root: string): Map<string, string> {
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version?: string };
  return new Map([
    ["/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"],
    ["/etc/group", "root:x:0:\nnogroup:x:65534:\n"],
    ["/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n"],
    ["/etc/hosts", "127.0.0.1 localhost\n::1 localhost\n"],
    [`${appDirectory}/package.json`, `${JSON.stringify({ name: "raftlab", version: manifest.version ?? "0.0.0", type: "module", private: true }, null, 2)}\n`],
  ]);
}

/**
 * npm packages the node command can load: the bare imports in the given compiled directories that
 * are runtime dependencies in package.json, and their dependencies, transitively. Imports of dev
 * dependencies (vitest and fast-check in the plugin compliance suite) belong to test code that the
 * node never loads; the harness's own packages (dockerode) are not imported under node/ or plugins/.
 */
export async function runtimePackages(root: string, compiledDirectories: readonly string[]): Promise<string[]> {
  const builtins = new Set(builtinModules);
  const rootManifest = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  const runtimeDependencies = new Set(Object.keys(rootManifest.dependencies ?? {}));
  const wanted: string[] = [];
  for (const directory of compiledDirectories) {
    if (!existsSync(directory)) {
      continue;
    }
    for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
      if (!entry.isFile() || !entry.name.endsWith(".js")) {
        continue;
      }
      const text = await readFile(join(entry.parentPath, entry.name), "utf8");
      for (const match of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)["']([^"'./][^"']*)["']/g)) {
        const specifier = match[1] as string;
        if (specifier.startsWith("node:") || builtins.has(specifier)) {
          continue;
        }
        const parts = specifier.split("/");
        const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string);
        if (runtimeDependencies.has(name)) {
          wanted.push(name);
        }
      }
    }
  }
  const found = new Set<string>();
  while (wanted.length > 0) {
    const name = wanted.pop() as string;
    if (found.has(name)) {
      continue;
    }
    const manifestPath = join(root, "node_modules", name, "package.json");
    if (!existsSync(manifestPath)) {
      // Nested under its dependant (copied with it), or an optional dependency that is absent.
      continue;
    }
    found.add(name);
    const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    wanted.push(...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {}));
  }
  return [...found].sort();
}

/**
 * A hash of every input. Host binaries count by path, size and mtime (hashing 100 MB of node on
 * every run would cost more than it saves); app trees as their plan entry says.
 */
export async function fingerprint(plan: ImagePlan): Promise<string> {
  const hash = createHash("sha256");
  hash.update(`${recipeVersion}\n`);
  for (const path of [plan.nodeBinary, plan.xtablesBinary, ...plan.hostPaths]) {
    for (const file of await filesUnder(path)) {
      const info = await stat(file);
      hash.update(`host ${file} ${info.size} ${info.mtimeMs}\n`);
    }
  }
  for (const [path, content] of plan.generated) {
    hash.update(`generated ${path} ${content}\n`);
  }
  for (const tree of plan.appTrees) {
    for (const file of (await filesUnder(tree.hostDirectory)).filter((path) => shippedFile(tree, path))) {
      hash.update(`app ${tree.rootfsDirectory}/${relative(tree.hostDirectory, file)}\n`);
      if (tree.kind === "project") {
        hash.update(await readFile(file));
      } else {
        const info = await stat(file);
        hash.update(`${info.size} ${info.mtimeMs}\n`);
      }
    }
  }
  return hash.digest("hex").slice(0, 16);
}

async function filesUnder(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) {
    return [path];
  }
  const entries = await readdir(path, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() || entry.isSymbolicLink())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}
