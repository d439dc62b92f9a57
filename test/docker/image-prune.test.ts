// Several checkouts share one Docker daemon: a build prunes only the old raftlab-node images its
// own checkout made (label raftlab.checkout), never another checkout's, nor unlabelled ones.
import type Docker from "dockerode";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { checkoutId, checkoutLabel, nodeImageRepository, pruneOldImages } from "../../docker/image/image.js";
import { requireDocker, skipDocker } from "./docker-test-support.js";

const prefix = `prune-test-${process.pid}`;

/** Imports a one-file image tagged raftlab-node:<prefix>-<name>, labelled for `checkout` (or not at all). */
async function importTinyImage(docker: Docker, directory: string, name: string, checkout: string | undefined): Promise<string> {
  const tag = `${nodeImageRepository}:${prefix}-${name}`;
  const tar = spawn("tar", ["-C", directory, "-cf", "-", "."], { stdio: ["ignore", "pipe", "inherit"] });
  const changes = checkout === undefined ? [] : [`LABEL ${checkoutLabel}=${checkout}`];
  const response = await docker.importImage(tar.stdout, { repo: nodeImageRepository, tag: `${prefix}-${name}`, changes } as object);
  await new Promise<void>((resolve, reject) => docker.modem.followProgress(response, (error: Error | null) => (error === null ? resolve() : reject(error))));
  return tag;
}

async function testTags(docker: Docker): Promise<string[]> {
  const images = await docker.listImages({ filters: JSON.stringify({ reference: [`${nodeImageRepository}:${prefix}-*`] }) });
  return images.flatMap((image) => image.RepoTags ?? []).sort();
}

describe.skipIf(skipDocker)("image pruning", () => {
  let docker: Docker;
  let directory: string;

  beforeAll(async () => {
    docker = await requireDocker();
    directory = await mkdtemp(join(tmpdir(), "prune-test-"));
    await writeFile(join(directory, "marker"), `${prefix}\n`);
  });

  afterAll(async () => {
    for (const tag of await testTags(docker)) {
      await docker
        .getImage(tag)
        .remove()
        .catch(() => undefined);
    }
    await rm(directory, { recursive: true, force: true });
  });

  test("removes this checkout's images beyond the newest three, and nobody else's", async () => {
    const ours = checkoutId("/a/checkout");
    const theirs = checkoutId("/another/checkout");
    expect(ours).not.toBe(theirs);
    const other = await importTinyImage(docker, directory, "theirs-old", theirs);
    const unlabelled = await importTinyImage(docker, directory, "unlabelled", undefined);
    const mine: string[] = [];
    for (let index = 1; index <= 4; index += 1) {
      await sleep(1_100); // image creation times are in seconds: keep them apart
      mine.push(await importTinyImage(docker, directory, `ours-${index}`, ours));
    }
    const removed: string[] = [];
    await pruneOldImages(docker, mine[3]!, ours, (line) => removed.push(line));
    expect(removed).toEqual([`docker: removed old image ${mine[0]!}`]);
    expect(await testTags(docker)).toEqual([...mine.slice(1), other, unlabelled].sort());
  });
});
