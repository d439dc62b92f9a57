// The node image, made without a registry: a root filesystem assembled from the host's own node,
// iptables, tc and ip (see docker-rootfs.ts) plus the project's compiled dist/, imported with
// `docker import`. Tagged by a hash of its inputs (docker-image-plan.ts), so it is rebuilt only
// when one of them changes.
import Docker from "dockerode";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DockerRuntimeError } from "./docker-error.js";
import { withFileLock } from "./file-lock.js";
import { runHostCommand } from "./host-command.js";
import { appDirectory, fingerprint, planImage, shippedFile, type ImagePlan } from "./image-plan.js";
import { RootfsBuilder } from "./rootfs.js";

export { runtimePackages } from "./image-plan.js";

export const nodeImageRepository = "raftlab-node";
/** Older raftlab-node images beyond this many are removed after a build (see pruneOldImages). */
const imagesKept = 3;

/**
 * Label on each image naming the checkout that built it (a hash of its path): several checkouts
 * share one daemon, and each prunes only its own old images, never another's.
 */
export const checkoutLabel = "raftlab.checkout";

/** The value of checkoutLabel for the checkout at `root`. */
export function checkoutId(root: string): string {
  return createHash("sha256").update(root).digest("hex").slice(0, 16);
}

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
export const nodeImageCliPath = `${appDirectory}/bin/raftlab-node.js`;

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
      throw new DockerRuntimeError("DOCKER_IMAGE_FAILED", `no package.json above ${fileURLToPath(import.meta.url)}`);
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
      await importRootfs(docker, rootfs, tag, checkoutId(root), options.signal);
    } finally {
      await rm(rootfs, { recursive: true, force: true });
    }
    log(`docker: built image ${tag} in ${Date.now() - started} ms`);
    await pruneOldImages(docker, tag, checkoutId(root), log);
    return tag;
  });
}

function defaultBuildPolicy(): BuildPolicy {
  // When the harness runs from dist/, the image must hold that same dist/, not a fresh build of
  // sources that may since have changed.
  return fileURLToPath(import.meta.url).includes(`${"/"}dist${"/"}`) ? "if-missing" : "if-stale";
}

async function buildDistIfNeeded(root: string, policy: BuildPolicy, signal: AbortSignal | undefined, log: (message: string) => void): Promise<void> {
  const entry = join(root, "dist", "node", "server", "main.js");
  const builtAtMs = existsSync(entry) ? (await stat(entry)).mtimeMs : undefined;
  if (builtAtMs !== undefined) {
    if (policy !== "if-stale") {
      return;
    }
    const newestSourceMs = await newestMtimeMs(["node", "plugins", "lib"].map((part) => join(root, part)));
    if (newestSourceMs <= builtAtMs) {
      return;
    }
  } else if (policy === "never") {
    throw new DockerRuntimeError("DOCKER_IMAGE_FAILED", `${entry} is missing; run \`npm run build\` first`);
  }
  log("docker: dist/ is missing or older than the sources; running tsc -p tsconfig.build.json");
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const result = await runHostCommand(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, signal });
  // tsc exit 2 means "type errors, files emitted": the image can still be built, but say so.
  if (result.exitCode === 2) {
    log(`docker: tsc reported type errors but emitted dist/:\n${result.stdout.slice(0, 2000)}`);
  } else if (result.exitCode !== 0) {
    throw new DockerRuntimeError("DOCKER_IMAGE_FAILED", `building dist/ failed (tsc exit ${result.exitCode ?? "?"}):\n${result.stdout}${result.stderr}`);
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

async function importRootfs(docker: Docker, rootfs: string, tag: string, checkout: string, signal: AbortSignal | undefined): Promise<void> {
  const tar = spawn("tar", ["-C", rootfs, "--numeric-owner", "--owner=0", "--group=0", "-cf", "-", "."], {
    stdio: ["ignore", "pipe", "pipe"],
    signal,
  });
  const tarStderr: Buffer[] = [];
  tar.stderr.on("data", (chunk: Buffer) => tarStderr.push(chunk));
  const tarExit = new Promise<void>((resolve, reject) => {
    tar.on("error", reject);
    tar.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`tar exited ${code ?? "by signal"}: ${Buffer.concat(tarStderr).toString("utf8")}`))));
  });
  const [repository, version] = tag.split(":") as [string, string];
  const changes = [
    `WORKDIR ${appDirectory}`,
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    `CMD ["node", "${nodeImageCliPath}", "help"]`,
    `LABEL ${checkoutLabel}=${checkout}`,
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
    throw new DockerRuntimeError("DOCKER_IMAGE_FAILED", `importing the rootfs ${rootfs} as ${tag} failed: ${String(error)}`, {
      cause: error,
    });
  }
  if (!(await imageExists(docker, tag))) {
    throw new DockerRuntimeError("DOCKER_IMAGE_FAILED", `docker import reported success but ${tag} does not exist`);
  }
}

/**
 * Each dist/ change makes a new ~110 MB image; keep this checkout's newest few and remove its older
 * ones that no container uses (the daemon refuses to remove those, which is the behaviour wanted
 * here). Images other checkouts built (another label, or none: built before labels) are theirs.
 */
export async function pruneOldImages(docker: Docker, keep: string, checkout: string, log: (message: string) => void): Promise<void> {
  const images = await docker.listImages({
    filters: JSON.stringify({ reference: [nodeImageRepository], label: [`${checkoutLabel}=${checkout}`] }),
  });
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
