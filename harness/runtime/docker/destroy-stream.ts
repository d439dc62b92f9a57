// Docker API streams (dockerode types them as plain ReadableStreams) hold a socket to the daemon
// until destroyed: one left half-read keeps the process alive after the run.

/** Destroys a Docker API stream, if it is one that can be destroyed. */
export function destroyStream(stream: NodeJS.ReadableStream | undefined): void {
  (stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined)?.destroy?.();
}
