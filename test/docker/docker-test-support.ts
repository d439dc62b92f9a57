// Shared by the Docker tests. These tests run for real against a Docker daemon: CI has one (see
// .ci/run). Without a daemon they fail loudly, unless RAFTLAB_SKIP_DOCKER=1 says to skip them.
import Docker from "dockerode";
import { runLabel } from "../../harness/runtime/docker/labels.js";

export const skipDocker = process.env.RAFTLAB_SKIP_DOCKER === "1";

export async function requireDocker(): Promise<Docker> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (error) {
    throw new Error(
      `the Docker tests need a running Docker daemon (${error instanceof Error ? error.message : String(error)}); ` +
        "start one (e.g. `nohup dockerd >/tmp/dockerd.log 2>&1 &`) or set RAFTLAB_SKIP_DOCKER=1 to skip these tests",
    );
  }
  return docker;
}

export function uniqueRunId(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}`;
}

/**
 * A stand-in node for testing the runtime's mechanics: echoes bytes on the peer port (7000) and the
 * client port (7001) and logs one JSON line to stderr, as a real node would.
 */
export const echoNodeCommand = (): string[] => [
  "node",
  "-e",
  [
    'const net = require("net");',
    "for (const port of [7000, 7001]) net.createServer((socket) => socket.pipe(socket)).listen(port);",
    'console.error(JSON.stringify({ time: new Date().toISOString(), level: "info", node: Number(process.env.RAFTLAB_NODE_ID), msg: "echo node up" }));',
  ].join("\n"),
];

/**
 * A script for `node -e` inside a container: connects to host:port and prints "connected",
 * "timeout" (no answer within 1.5 s: packets dropped) or the error code.
 */
export function connectProbe(host: string, port: number): string[] {
  return [
    "node",
    "-e",
    `const s = require("net").connect(${port}, ${JSON.stringify(host)});
s.setTimeout(1500, () => { console.log("timeout"); process.exit(0); });
s.on("connect", () => { console.log("connected"); process.exit(0); });
s.on("error", (e) => { console.log(e.code); process.exit(0); });`,
  ];
}

/**
 * A script for `node -e` inside a container: sends `bytes` to an echo node at host:port and prints
 * how many bytes came back within `windowMs` (all of them on a fast link).
 */
export function echoedBytesProbe(host: string, port: number, bytes: number, windowMs: number): string[] {
  return [
    "node",
    "-e",
    `const s = require("net").connect(${port}, ${JSON.stringify(host)});
let echoed = 0;
const done = () => { console.log(echoed); process.exit(0); };
s.on("connect", () => { s.write(Buffer.alloc(${bytes}, 120)); setTimeout(done, ${windowMs}); });
s.on("data", (chunk) => { echoed += chunk.length; if (echoed >= ${bytes}) done(); });
s.on("error", (e) => { console.log(e.code); process.exit(0); });`,
  ];
}

/** Names of the containers, networks and volumes still labelled with this run id. */
export async function labelledObjects(docker: Docker, runId: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [`${runLabel}=${runId}`] });
  const containers = (await docker.listContainers({ all: true, filters })).map((container) => `container ${container.Names[0] ?? container.Id}`);
  const networks = (await docker.listNetworks({ filters })).map((network) => `network ${network.Name}`);
  const volumes = ((await docker.listVolumes({ filters })).Volumes ?? []).map((volume) => `volume ${volume.Name}`);
  return [...containers, ...networks, ...volumes];
}
