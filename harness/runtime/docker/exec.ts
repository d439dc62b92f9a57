// Runs a command inside a running container (docker exec) and collects its demultiplexed output.
import type Docker from "dockerode";
import { PassThrough } from "node:stream";
import { DockerRuntimeError } from "../../../docker/image/docker-error.js";
import type { ExecResult } from "../runtime.js";
import { sleep } from "../../../lib/deadline.js";

const exitCodePollIntervalMs = 20;
const exitCodePollsMax = 250;

export interface ExecOptions {
  signal?: AbortSignal | undefined;
  /** Extra environment, "NAME=value" (passing data this way avoids shell quoting). */
  env?: string[];
}

export async function execInContainer(container: Docker.Container, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  options.signal?.throwIfAborted();
  const exec = await container.exec({
    Cmd: [...argv],
    AttachStdout: true,
    AttachStderr: true,
    Env: options.env ?? [],
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const stdout = collect();
  const stderr = collect();
  container.modem.demuxStream(stream, stdout.sink, stderr.sink);
  // The daemon ending its side leaves the hijacked socket half-open on ours: destroy it once the
  // output is in, or it keeps the process alive after the run (an open PipeWrap per exec).
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      stream.destroy();
      reject(options.signal?.reason ?? new Error("aborted"));
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const settle = (error?: Error): void => {
      options.signal?.removeEventListener("abort", onAbort);
      if (error === undefined) {
        resolve();
      } else {
        reject(error);
      }
    };
    stream.on("end", () => settle());
    stream.on("close", () => settle());
    stream.on("error", settle);
  }).finally(() => stream.destroy());
  // The output stream can end a moment before the daemon records the exit code.
  for (let attempt = 0; ; attempt += 1) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) {
      return { exitCode: info.ExitCode, stdout: stdout.text(), stderr: stderr.text() };
    }
    if (attempt >= exitCodePollsMax) {
      throw new DockerRuntimeError("DOCKER_EXEC_FAILED", `exec ${argv.join(" ")}: output ended but the daemon reports no exit code`);
    }
    await sleep(exitCodePollIntervalMs, options.signal);
  }
}

function collect(): { sink: PassThrough; text: () => string } {
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on("data", (chunk: Buffer) => chunks.push(chunk));
  return { sink, text: () => Buffer.concat(chunks).toString("utf8") };
}
