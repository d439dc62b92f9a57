// The registry-less way the swarm runtime gets its image onto a host: `docker save` from the
// manager's daemon streamed into `docker load` on the host, over their APIs. With one daemon here,
// source and target are the same: the whole image still goes out and back in through the stream.
import type Docker from "dockerode";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureNodeImage, imageExists } from "../../docker/image/image.js";
import { copyImage } from "../../harness/runtime/swarm/image-distribution.js";
import { requireDocker, skipDocker } from "../docker/docker-test-support.js";

let docker: Docker;

beforeAll(async () => {
  if (skipDocker) return;
  docker = await requireDocker();
});

describe.skipIf(skipDocker)("copying the node image to a host without a registry", () => {
  it("streams the saved node image into a load, which ends with the image listed", async () => {
    const image = await ensureNodeImage({ docker, build: "if-missing" });
    await copyImage(docker, docker, image, "the same daemon");
    expect(await imageExists(docker, image)).toBe(true);
  });

  it("reports an image the source does not have, naming it", async () => {
    await expect(copyImage(docker, docker, "raftlab-no-such-image:none", "host-x")).rejects.toThrow(
      /^SWARM_IMAGE: saving raftlab-no-such-image:none for host-x failed: /,
    );
  });
});
