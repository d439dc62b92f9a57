// The node image, made without a registry: a root filesystem assembled from the host's own node,
// iptables, tc and ip (see docker-rootfs.ts) plus the project's compiled dist/, imported with
// `docker import`. Tagged by a hash of its inputs, so it is rebuilt only when one of them changes.
import Docker from "dockerode";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { DockerRuntimeError } from "./docker-error.js";
import { libraryClosure } from "./docker-elf.js";
import { findHostBinary, RootfsBuilder, sharedLibraries } from "./docker-rootfs.js";
import { withFileLock } from "./docker-file-lock.js";
import { runHostCommand } from "./docker-host-command.js";

export const nodeImageRepository = "raftlab-node";
/** Bump when the recipe below changes in a way the input hash cannot see. */
const recipeVersion = "raftlab-node-rootfs-2";
const appDirectory = "/app";
/** Older raftlab-node images beyond this many are removed after a build (see pruneOldImages). */
const imagesKept = 3;
/** Files of dist/ and bin/ worth shipping: code and JSON (no source maps). */
const shippedProjectFile = (path: string): boolean => /\.(js|cjs|mjs|json)$/.test(path);
/**
 * Files of npm packages worth shipping: everything but docs, types, sources and maps, so native
 * binaries without an extension (esbuild's, which tsx needs for .ts plugins) come along.
 */
const shippedPackageFile = (path: string): boolean => !/\.(md|markdown|map|ts|mts|cts|tsx)$/i.test(path);
const shippedFile = (tree: AppTree, path: string): boolean => (tree.kind === "project" ? shippedProjectFile(path) : shippedPackageFile(path));

export type BuildPolicy =
  /** Run `tsc` when dist/ is missing or older than a source file (the default from sources). */
  | "if-stale"
  /** Run `tsc` only when dist/ is missing (the default when the harness itself runs from dist/). */
  | "if-missing"
  /** Never build; fail when dist/ is missing. */
  | "never";

export interface EnsureNodeImageOptions {
  signal?: AbortSignal;
  log?: (message: string) => void;
  docker?: Docker;
  build?: BuildPolicy;
}

/** The image's entry into the CLI, for `node <cliPath> node --id ...`. */
export const nodeImageCliPath = `${appDirectory}/dist/harness/cli.js`;

/** Where the project lives: the nearest directory above this file whose package.json is raftlab's. */
export function projectRoot(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(directory, "package.json");
    if (existsSync(manifest)) {
      return directory;
    }
    const parent = dirname(directory);
    if (parent === directory) {
      throw new DockerRuntimeError("RAFTLAB_DOCKER_IMAGE_FAILED", `no package.json above ${fileURLToPath(import.meta.url)}`);
    }
    directory = parent;
  }
}

const inProcessBuilds = new Map<string, Promise<string>>();

/**
 * Returns the tag of an image holding this project's current dist/ and the host's tools, building
 * and importing it when no image with that content exists yet. Safe to call from several processes
 * at once: building is serialised by a lock file.
 */
export async function ensureNodeImage(options: EnsureNodeImageOptions = {}): Promise<string> {
  const root = projectRoot();
  const key = `${root}|${options.build ?? ""}`;
  let pending = inProcessBuilds.get(key);
  if (pending === undefined) {
    pending = ensureNodeImageUncached(root, options).finally(() => inProcessBuilds.delete(key));
    inProcessBuilds.set(key, pending);
  }
  return pending;
}

async function ensureNodeImageUncached(root: string, options: EnsureNodeImageOptions): Promise<string> {
  const log = options.log ?? (() => {});
  const docker = options.docker ?? new Docker();
  const lockPath = join(tmpdir(), "raftlab-node-image.lock");
  return withFileLock(lockPath, options.signal, async () => {
    await buildDistIfNeeded(root, options.build ?? defaultBuildPolicy(), options.signal, log);
    const plan = await planImage(root, options.signal);
    const tag = `${nodeImageRepository}:${await fingerprint(plan)}`;
    if (await imageExists(docker, tag)) {
      return tag;
    }
    const started = Date.now();
    const rootfs = await mkdtemp(join(tmpdir(), "raftlab-rootfs-"));
    try {
      await assembleRootfs(rootfs, plan);
      await importRootfs(docker, rootfs, tag, options.signal);
    } finally {
      await rm(rootfs, { recursive: true, force: true });
    }
    log(`docker: built image ${tag} in ${Date.now() - started} ms`);
    await pruneOldImages(docker, tag, log);
    return tag;
  });
}

function defaultBuildPolicy(): BuildPolicy {
  // When the harness runs from dist/, the image must hold that same dist/, not a fresh build of
  // sources that may since have changed.
  return fileURLToPath(import.meta.url).includes(`${"/"}dist${"/"}`) ? "if-missing" : "if-stale";
}

async function buildDistIfNeeded(
  root: string,
  policy: BuildPolicy,
  signal: AbortSignal | undefined,
  log: (message: string) => void,
): Promise<void> {
  const entry = join(root, "dist", "harness", "cli.js");
  const builtAtMs = existsSync(entry) ? (await stat(entry)).mtimeMs : undefined;
  if (builtAtMs !== undefined) {
    if (policy !== "if-stale") {
      return;
    }
    const newestSourceMs = await newestMtimeMs(["node", "plugins", "harness"].map((part) => join(root, part)));
    if (newestSourceMs <= builtAtMs) {
      return;
    }
  } else if (policy === "never") {
    throw new DockerRuntimeError("RAFTLAB_DOCKER_IMAGE_FAILED", `${entry} is missing; run \`npm run build\` first`);
  }
  log("docker: dist/ is missing or older than the sources; running tsc -p tsconfig.build.json");
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const result = await runHostCommand(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, signal });
  // tsc exit 2 means "type errors, files emitted": the image can still be built, but say so.
  if (result.exitCode === 2) {
    log(`docker: tsc reported type errors but emitted dist/:\n${result.stdout.slice(0, 2000)}`);
  } else if (result.exitCode !== 0) {
    throw new DockerRuntimeError(
      "RAFTLAB_DOCKER_IMAGE_FAILED",
      `building dist/ failed (tsc exit ${result.exitCode ?? "?"}):\n${result.stdout}${result.stderr}`,
    );
  }
}

async function newestMtimeMs(directories: readonly string[]): Promise<number> {
  let newest = 0;
  for (const directory of directories) {
    if (!existsSync(directory)) {
      continue;
    }
    for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
      if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) {
        newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
      }
    }
  }
  return newest;
}

/**
 * A project tree (dist/, bin/) counts by content in the hash: tsc rewrites every file on each
 * build, so mtimes would change every time. A package counts by size and mtime: npm leaves them
 * alone between installs, and some are large (esbuild's binary is 10 MB).
 */
interface AppTree {
  hostDirectory: string;
  rootfsDirectory: string;
  kind: "project" | "package";
}

/** Everything that goes into the image, gathered before anything is copied so it can be hashed. */
interface ImagePlan {
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

async function planImage(root: string, signal: AbortSignal | undefined): Promise<ImagePlan> {
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
    throw new DockerRuntimeError("RAFTLAB_DOCKER_IMAGE_FAILED", `no xtables modules next to ${libxtables ?? "libxtables (not linked by iptables?)"}`);
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
      { hostDirectory: distDirectory, rootfsDirectory: `${appDirectory}/dist`, kind: "project" },
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
    [
      `${appDirectory}/package.json`,
      `${JSON.stringify({ name: "raftlab", version: manifest.version ?? "0.0.0", type: "module", private: true }, null, 2)}\n`,
    ],
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
async function fingerprint(plan: ImagePlan): Promise<string> {
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

async function assembleRootfs(rootfs: string, plan: ImagePlan): Promise<void> {
  const builder = await RootfsBuilder.create(rootfs);
  for (const path of plan.hostPaths) {
    await builder.copyHostPath(path);
  }
  await builder.copyHostFileTo(plan.nodeBinary, "/usr/local/bin/node");
  const xtablesName = plan.xtablesBinary.split("/").pop() as string;
  const sbin = dirname(plan.xtablesBinary);
  for (const name of ["iptables", "iptables-save", "iptables-restore"]) {
    await builder.symlink(`/usr/local/sbin/${name}`, `${sbin}/${xtablesName}`);
  }
  for (const [path, content] of plan.generated) {
    await builder.writeFile(path, content);
  }
  for (const tree of plan.appTrees) {
    await builder.copyHostTreeTo(tree.hostDirectory, tree.rootfsDirectory, (path) => shippedFile(tree, path));
  }
  await builder.directory("/tmp", 0o1777);
  await builder.directory("/data");
  await builder.directory("/run");
  await builder.directory("/root", 0o700);
  await mkdir(join(rootfs, "proc"), { recursive: true });
  await mkdir(join(rootfs, "sys"), { recursive: true });
  await mkdir(join(rootfs, "dev"), { recursive: true });
}

async function importRootfs(docker: Docker, rootfs: string, tag: string, signal: AbortSignal | undefined): Promise<void> {
  const tar = spawn("tar", ["-C", rootfs, "--numeric-owner", "--owner=0", "--group=0", "-cf", "-", "."], {
    stdio: ["ignore", "pipe", "pipe"],
    signal,
  });
  const tarStderr: Buffer[] = [];
  tar.stderr.on("data", (chunk: Buffer) => tarStderr.push(chunk));
  const tarExit = new Promise<void>((resolve, reject) => {
    tar.on("error", reject);
    tar.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`tar exited ${code ?? "by signal"}: ${Buffer.concat(tarStderr).toString("utf8")}`)),
    );
  });
  const [repository, version] = tag.split(":") as [string, string];
  const changes = [
    `WORKDIR ${appDirectory}`,
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    `CMD ["node", "${nodeImageCliPath}", "help"]`,
  ];
  const imported = (async () => {
    const response = await docker.importImage(tar.stdout, { repo: repository, tag: version, changes } as object);
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(response, (error: Error | null) => (error === null ? resolve() : reject(error)));
    });
  })();
  try {
    await Promise.all([imported, tarExit]);
  } catch (error) {
    throw new DockerRuntimeError("RAFTLAB_DOCKER_IMAGE_FAILED", `importing the rootfs ${rootfs} as ${tag} failed: ${String(error)}`, {
      cause: error,
    });
  }
  if (!(await imageExists(docker, tag))) {
    throw new DockerRuntimeError("RAFTLAB_DOCKER_IMAGE_FAILED", `docker import reported success but ${tag} does not exist`);
  }
}

/**
 * Each dist/ change makes a new ~110 MB image; keep the newest few and remove older ones that no
 * container uses (the daemon refuses to remove those, which is the behaviour wanted here).
 */
async function pruneOldImages(docker: Docker, keep: string, log: (message: string) => void): Promise<void> {
  const images = await docker.listImages({ filters: JSON.stringify({ reference: [nodeImageRepository] }) });
  const old = images
    .sort((a, b) => b.Created - a.Created)
    .slice(imagesKept)
    .flatMap((image) => image.RepoTags ?? [])
    .filter((tag) => tag !== keep);
  for (const tag of old) {
    try {
      await docker.getImage(tag).remove();
      log(`docker: removed old image ${tag}`);
    } catch {
      // In use by a container (409) or removed meanwhile (404): leave it.
    }
  }
}

export async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch (error) {
    if (isNotFound(error)) {
      return false;
    }
    throw error;
  }
}

export function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { statusCode?: unknown }).statusCode === 404;
}
