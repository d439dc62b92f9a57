// The registry-less node image: built from the host's binaries and dist/, and cached by content.
import type Docker from "dockerode";
import { PassThrough } from "node:stream";
import { beforeAll, describe, expect, test } from "vitest";
import { ensureNodeImage, nodeImageRepository } from "../../docker/image/image.js";
import { requireDocker, skipDocker } from "./docker-test-support.js";

/** Runs a command in a throwaway container of `image`; returns its exit code and output. */
async function runInImage(docker: Docker, image: string, command: string[], netAdmin = false): Promise<{ exitCode: number; output: string }> {
  const container = await docker.createContainer({
    Image: image,
    Cmd: command,
    Labels: { "raftlab.test": "image" },
    HostConfig: { NetworkMode: "none", CapAdd: netAdmin ? ["NET_ADMIN"] : [] },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const stream = await container.logs({ stdout: true, stderr: true, follow: false });
    const chunks: Buffer[] = [];
    const sink = new PassThrough();
    sink.on("data", (chunk: Buffer) => chunks.push(chunk));
    container.modem.demuxStream(new PassThrough().end(stream), sink, sink);
    await new Promise((resolve) => setImmediate(resolve));
    return { exitCode: StatusCode, output: Buffer.concat(chunks).toString("utf8") };
  } finally {
    await container.remove({ force: true });
  }
}

describe.skipIf(skipDocker)("the raftlab-node image", () => {
  let docker: Docker;
  let image: string;

  beforeAll(async () => {
    docker = await requireDocker();
    image = await ensureNodeImage({ docker, build: "if-missing", log: (line) => process.stderr.write(`${line}\n`) });
  });

  test("is tagged by content and found again instead of rebuilt", async () => {
    expect(image).toMatch(new RegExp(`^${nodeImageRepository}:[0-9a-f]{16}$`));
    expect(await ensureNodeImage({ docker, build: "if-missing" })).toBe(image);
  });

  test("runs the host's node version", async () => {
    const result = await runInImage(docker, image, ["node", "-e", "console.log(process.version)"]);
    expect(result).toEqual({ exitCode: 0, output: `${process.version}\n` });
  });

  test("holds iptables with the statistic match, and tc", async () => {
    const script = [
      "iptables -N PROBE",
      "iptables -A PROBE -s 10.0.0.1 -m statistic --mode random --probability 0.5 -j DROP",
      "iptables -S PROBE",
      "tc qdisc show dev lo >/dev/null && echo tc-ok",
    ].join(" && ");
    const result = await runInImage(docker, image, ["sh", "-c", script], true);
    expect(result.exitCode).toBe(0);
    expect(result.output).toMatch(/-A PROBE -s 10\.0\.0\.1\/32 -m statistic --mode random --probability 0\.5\d* -j DROP\ntc-ok\n$/);
  });

  test("holds the compiled node server, runnable as an ES module", async () => {
    const result = await runInImage(docker, image, ["node", "/app/bin/raftlab-node.js", "--help"]);
    expect(result.exitCode).toBe(0);
    expect(result.output.split("\n")[0]).toMatch(/^usage: raftlab node --id N/);
  });
});
