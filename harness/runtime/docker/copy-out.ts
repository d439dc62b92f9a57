// Copies a directory out of a container (running or stopped) onto the host, as `docker cp` does:
// the daemon streams a tar archive of it, which the host's tar unpacks. Used to keep a node's
// data directory in the results (keep_data) before the container and its volume are removed.
import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import type Docker from "dockerode";
import { DockerRuntimeError } from "../../../docker/image/docker-error.js";
import { destroyStream } from "./destroy-stream.js";

/** Unpacks `containerPath` of `container` into `target` (created), without its top directory's name. */
export async function copyOutOfContainer(container: Docker.Container, containerPath: string, target: string): Promise<void> {
  await mkdir(target, { recursive: true });
  const archive = await container.getArchive({ path: containerPath });
  await new Promise<void>((resolve, reject) => {
    // The archive's entries start with the directory's own name ("data/..."): strip it.
    const tar = spawn("tar", ["-x", "-C", target, "--strip-components=1", "--no-same-owner"], { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    tar.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    tar.on("error", (error) => reject(new DockerRuntimeError("DOCKER_EXEC_FAILED", `copying ${containerPath} out: cannot run tar: ${error.message}`)));
    tar.on("close", (code) =>
      code === 0 ? resolve() : reject(new DockerRuntimeError("DOCKER_EXEC_FAILED", `copying ${containerPath} out: tar exited ${code}: ${stderr.trim()}`)),
    );
    archive.on("error", (error: Error) => tar.stdin.destroy(error));
    archive.pipe(tar.stdin);
  }).finally(() => {
    // tar exits at the archive's end marker, before the daemon's response has ended: the rest of
    // the response would stay unread and its socket keep the process alive after the run.
    destroyStream(archive);
  });
}
