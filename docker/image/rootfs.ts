// Assembles a minimal root filesystem from the host's own files, so that the node image can be
// made with `docker import` where no registry is reachable: the node binary, iptables (xtables),
// tc and ip, the shared libraries `ldd` lists for them, and a few /etc files.
import { chmod, copyFile, lstat, mkdir, readdir, readlink, realpath, stat, symlink, writeFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { DockerRuntimeError } from "./docker-error.js";
import { runHostCommand } from "./host-command.js";

/** Where host tools are looked for, in order (the harness's PATH may lack the sbin dirs). */
const binaryDirectories = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** Top-level directories that merged-/usr hosts make symlinks; the rootfs mirrors the host's choice. */
const mergedUsrLinks = ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

export async function findHostBinary(names: readonly string[]): Promise<string> {
  for (const name of names) {
    for (const directory of binaryDirectories) {
      const candidate = join(directory, name);
      try {
        const info = await stat(candidate);
        if (info.isFile() && (info.mode & 0o111) !== 0) {
          return candidate;
        }
      } catch {
        // Not in this directory; try the next.
      }
    }
  }
  throw new DockerRuntimeError(
    "DOCKER_IMAGE_FAILED",
    `none of ${names.join(", ")} was found in ${binaryDirectories.join(":")}; install it on the host (e.g. apt-get install iptables iproute2)`,
  );
}

/**
 * The shared libraries (and the dynamic loader) that `ldd` lists for the given ELF files, in one
 * `ldd` call. A library `ldd` cannot find is an error for `required` files and skipped for the others
 * (an xtables module for a feature raftlab never uses may lack its library).
 */
export async function sharedLibraries(files: { required: readonly string[]; optional: readonly string[] }, signal: AbortSignal | undefined): Promise<string[]> {
  const all = [...files.required, ...files.optional];
  const result = await runHostCommand("ldd", all, { signal });
  const required = new Set(files.required);
  const libraries = new Set<string>();
  let current = all.length === 1 ? all[0] : undefined;
  for (const line of result.stdout.split("\n")) {
    const header = /^(\S.*):$/.exec(line);
    if (header !== null) {
      current = header[1];
      continue;
    }
    if (/not found/.test(line)) {
      if (current !== undefined && required.has(current)) {
        throw new DockerRuntimeError("DOCKER_IMAGE_FAILED", `ldd ${current}: a library is missing: ${line.trim()}`);
      }
      continue;
    }
    const arrow = /=>\s*(\/\S+)/.exec(line);
    const bare = /^\s*(\/\S+)\s+\(0x/.exec(line);
    const path = arrow?.[1] ?? bare?.[1];
    if (path !== undefined) {
      libraries.add(path);
    }
  }
  if (libraries.size === 0) {
    throw new DockerRuntimeError(
      "DOCKER_IMAGE_FAILED",
      `ldd listed no libraries for ${all.join(", ")} (exit ${result.exitCode}): ${result.stderr.slice(0, 400)}`,
    );
  }
  return [...libraries].sort();
}

/** Writes host files into a directory that becomes `/` of the image. */
export class RootfsBuilder {
  private readonly copied = new Set<string>();

  private constructor(readonly root: string) {}

  /** Creates the builder and mirrors the host's merged-/usr symlinks (/lib -> usr/lib, ...). */
  static async create(root: string): Promise<RootfsBuilder> {
    await mkdir(root, { recursive: true });
    for (const top of mergedUsrLinks) {
      try {
        if ((await lstat(top)).isSymbolicLink()) {
          await symlink(await readlink(top), join(root, top));
        }
      } catch {
        // The host has no such directory; nothing to mirror.
      }
    }
    return new RootfsBuilder(root);
  }

  /**
   * Copies a host file, directory tree or symlink chain to the same path in the rootfs. Symlinks stay
   * symlinks (and their targets are copied too), so sonames and `iptables -> xtables-nft-multi`
   * resolve exactly as on the host.
   */
  async copyHostPath(hostPath: string): Promise<void> {
    if (!isAbsolute(hostPath)) {
      throw new DockerRuntimeError("DOCKER_IMAGE_FAILED", `rootfs copy needs an absolute path, got "${hostPath}"`);
    }
    // Resolve the directory (not the file): /lib/x/libc.so.6 is written to /usr/lib/x/libc.so.6
    // on a merged-/usr host, which the mirrored /lib symlink then reaches.
    const canonical = join(await realpath(dirname(hostPath)), basename(hostPath));
    if (this.copied.has(canonical)) {
      return;
    }
    this.copied.add(canonical);
    const info = await lstat(canonical);
    const target = this.pathInRoot(canonical);
    await mkdir(dirname(target), { recursive: true });
    if (info.isSymbolicLink()) {
      const link = await readlink(canonical);
      await symlink(link, target);
      await this.copyHostPath(resolve(dirname(canonical), link));
    } else if (info.isDirectory()) {
      await mkdir(target, { recursive: true });
      for (const entry of await readdir(canonical)) {
        await this.copyHostPath(join(canonical, entry));
      }
    } else if (info.isFile()) {
      await copyFile(canonical, target);
      await chmod(target, info.mode & 0o7777);
    }
  }

  /** Copies one host file to a chosen rootfs path (following symlinks on the host). */
  async copyHostFileTo(hostPath: string, rootfsPath: string): Promise<void> {
    const target = this.pathInRoot(rootfsPath);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(hostPath, target);
    await chmod(target, (await stat(hostPath)).mode & 0o7777);
  }

  /** Copies a host directory tree to a chosen rootfs path, keeping only files `keep` accepts. */
  async copyHostTreeTo(hostDirectory: string, rootfsDirectory: string, keep: (path: string) => boolean): Promise<void> {
    for (const entry of await readdir(hostDirectory, { withFileTypes: true })) {
      const source = join(hostDirectory, entry.name);
      const destination = join(rootfsDirectory, entry.name);
      if (entry.isDirectory()) {
        await this.copyHostTreeTo(source, destination, keep);
      } else if ((entry.isFile() || entry.isSymbolicLink()) && keep(source)) {
        await this.copyHostFileTo(source, destination);
      }
    }
  }

  async writeFile(rootfsPath: string, content: string, mode = 0o644): Promise<void> {
    const target = this.pathInRoot(rootfsPath);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
    await chmod(target, mode);
  }

  async symlink(rootfsPath: string, linkTarget: string): Promise<void> {
    const target = this.pathInRoot(rootfsPath);
    await mkdir(dirname(target), { recursive: true });
    await symlink(linkTarget, target);
  }

  async directory(rootfsPath: string, mode = 0o755): Promise<void> {
    const target = this.pathInRoot(rootfsPath);
    await mkdir(target, { recursive: true });
    await chmod(target, mode);
  }

  private pathInRoot(rootfsPath: string): string {
    if (!isAbsolute(rootfsPath) || rootfsPath.split("/").includes("..")) {
      throw new DockerRuntimeError("DOCKER_IMAGE_FAILED", `rootfs path must be absolute without "..": "${rootfsPath}"`);
    }
    return join(this.root, rootfsPath);
  }
}
