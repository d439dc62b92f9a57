// Gets the node image onto every host that will run a node. Without a registry (raftlab's default)
// the image is built with the daemon raftlab talks to, as the Docker runtime does, then saved from
// it and loaded into each host that lacks it, over each host's own API. With a registry, each host
// pulls the configured image name instead.
import type Docker from "dockerode";
import { ensureNodeImage, imageExists, type BuildPolicy } from "../../../docker/image/image.js";
import { SwarmRuntimeError } from "./swarm-error.js";
import type { SwarmHost } from "./swarm-hosts.js";

export interface ImageDistributionOptions {
  /** The daemon that builds the image (the manager raftlab talks to). */
  builder: Docker;
  hosts: readonly SwarmHost[];
  /** A registry image to pull on each host; undefined: build raftlab-node and load it. */
  registryImage: string | undefined;
  build?: BuildPolicy | undefined;
  log: (message: string) => void;
  signal?: AbortSignal | undefined;
}

/** Returns the image name every host now has. */
export async function distributeNodeImage(options: ImageDistributionOptions): Promise<string> {
  const { hosts, log, signal } = options;
  if (options.registryImage !== undefined) {
    const image = options.registryImage;
    for (const host of hosts) {
      signal?.throwIfAborted();
      if (!(await imageExists(host.docker, image))) {
        log(`swarm: pulling ${image} on ${host.name}`);
        await follow(host.docker, await host.docker.pull(image), `pulling ${image} on ${host.name} (${host.endpoint})`);
      }
    }
    return image;
  }
  const image = await ensureNodeImage({
    docker: options.builder,
    log,
    ...(signal === undefined ? {} : { signal }),
    ...(options.build === undefined ? {} : { build: options.build }),
  });
  for (const host of hosts) {
    signal?.throwIfAborted();
    if (await imageExists(host.docker, image)) {
      continue;
    }
    const started = Date.now();
    await copyImage(options.builder, host.docker, image, `${host.name} (${host.endpoint})`);
    log(`swarm: loaded ${image} into ${host.name} in ${Date.now() - started} ms`);
  }
  return image;
}

/** `docker save IMAGE | docker load` from one daemon into another, streamed: nothing is written to disk. */
export async function copyImage(source: Docker, target: Docker, image: string, targetName: string): Promise<void> {
  const saved = await source
    .getImage(image)
    .get()
    .catch((error: unknown) => {
      throw new SwarmRuntimeError("SWARM_IMAGE", `saving ${image} for ${targetName} failed: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    });
  await follow(target, await target.loadImage(saved), `loading ${image} into ${targetName}`);
  if (!(await imageExists(target, image))) {
    throw new SwarmRuntimeError("SWARM_IMAGE", `loading ${image} into ${targetName} ended, but the host does not list the image`);
  }
}

/** Reads a pull or load progress stream to its end; an error message in it fails the step. */
function follow(docker: Docker, stream: NodeJS.ReadableStream, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null) => {
      if (error === null) {
        resolve();
      } else {
        reject(new SwarmRuntimeError("SWARM_IMAGE", `${what} failed: ${error.message}`, { cause: error }));
      }
    });
  });
}
