// A stand-in for `raftlab node` used to test the local runtime's wiring (ports, proxies, signals,
// data directories, logs) without Raft. Run as: node --import tsx stub-node.ts node <contract flags>.
// Every 50 ms it sends "from <id>\n" to each peer at the address --peers gives (the fault proxy),
// and its client port answers `status` with the standard fields plus:
//   heardFrom: peers whose greeting arrived in the last 400 ms,
//   boots:     how many times a node started with this --data directory.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { parseHostPort } from "../../../lib/host-port.js";
import { encodeFrame, FrameDecoder } from "../../../node/server/transport/frame-codec.js";

const HEARD_WINDOW_MS = 400;
const GREETING_INTERVAL_MS = 50;

function flag(argv: string[], name: string): string {
  const index = argv.indexOf(name);
  const value = index >= 0 ? argv[index + 1] : undefined;
  if (value === undefined) {
    throw new Error(`stub-node: missing ${name}`);
  }
  return value;
}

function log(id: number, msg: string): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: "info", node: id, msg })}\n`);
}

function main(argv: string[]): void {
  const id = Number(flag(argv, "--id"));
  const peers = new Map(
    flag(argv, "--peers")
      .split(",")
      .map((item) => {
        const [peerId, address] = item.split("=") as [string, string];
        return [Number(peerId), address] as const;
      }),
  );
  const dataDir = flag(argv, "--data");
  mkdirSync(dataDir, { recursive: true });
  const bootsFile = path.join(dataDir, "boots");
  let boots = 0;
  try {
    boots = Number(readFileSync(bootsFile, "utf8"));
  } catch {
    boots = 0;
  }
  boots += 1;
  writeFileSync(bootsFile, String(boots));

  const lastHeard = new Map<number, number>();
  const peerServer = net.createServer((socket) => {
    socket.on("error", () => undefined);
    let pending = "";
    socket.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const match = /^from (\d+)$/.exec(line);
        if (match !== null) {
          lastHeard.set(Number(match[1]), Date.now());
        }
      }
    });
  });
  peerServer.listen(parseHostPort(flag(argv, "--listen"), { listen: true }).port, "127.0.0.1");

  const clientServer = net.createServer((socket) => {
    socket.on("error", () => undefined);
    const decoder = new FrameDecoder();
    socket.on("data", (chunk: Buffer) => {
      for (const payload of decoder.push(chunk)) {
        const request = JSON.parse(Buffer.from(payload).toString("utf8")) as { id: number; type: string };
        const now = Date.now();
        const heardFrom = [...lastHeard]
          .filter(([, at]) => now - at < HEARD_WINDOW_MS)
          .map(([peer]) => peer)
          .sort();
        const status = {
          nodeId: id,
          role: "follower",
          term: 0,
          leader: 0,
          commit: 0,
          applied: 0,
          lastIndex: 0,
          voters: [...peers.keys()],
          plugin: "stub",
          heardFrom,
          boots,
        };
        const response =
          request.type === "status" ? { id: request.id, ok: true, status } : { id: request.id, ok: false, code: "BAD_REQUEST", message: "stub node" };
        socket.write(encodeFrame(Buffer.from(JSON.stringify(response))));
      }
    });
  });
  clientServer.listen(parseHostPort(flag(argv, "--client-listen"), { listen: true }).port, "127.0.0.1");

  const outgoing = new Map<number, net.Socket>();
  setInterval(() => {
    for (const [peer, address] of peers) {
      if (peer === id) {
        continue;
      }
      let socket = outgoing.get(peer);
      if (socket === undefined || socket.destroyed) {
        socket = net.connect(parseHostPort(address));
        socket.on("error", () => undefined);
        const opened = socket;
        socket.on("close", () => {
          if (outgoing.get(peer) === opened) {
            outgoing.delete(peer);
          }
        });
        outgoing.set(peer, socket);
      }
      socket.write(`from ${id}\n`);
    }
  }, GREETING_INTERVAL_MS);

  process.on("SIGTERM", () => {
    log(id, "stub node stopping on SIGTERM");
    process.exit(0);
  });
  log(id, `stub node started (boot ${boots})`);
}

main(process.argv.slice(2));
