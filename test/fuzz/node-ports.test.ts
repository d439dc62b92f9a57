// 10,000 random and mutated frames thrown at the peer and client ports of a live 3-node kv
// cluster (real node processes): every node stays up, the cluster keeps its leader's writes, and
// it serves reads and writes afterwards. The transport-level fuzz (frames.test.ts) predicts each
// counter exactly; this one asserts what users rely on: bad input never takes a node down.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeHello, newNonce } from "../../node/server/transport/peer-handshake.js";
import { encodeFrame, FRAME_HEADER_BYTES } from "../../node/server/transport/frame-codec.js";
import { TestCluster } from "../integration/cluster-helpers.js";
import { seededRandom } from "../../lib/rng.js";
import { parseHostPort } from "../../lib/host-port.js";

const SEED = Number(process.env["RAFTLAB_FUZZ_SEED"] ?? 20_261_129);
const FRAMES = 10_000;
const FRAMES_PER_CONNECTION = 4;
const CONCURRENT_CONNECTIONS = 16;

type Port = "peer" | "client";

function randomBytes(random: () => number, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** Flips a few bytes of a well-formed frame: its checksum, length or payload breaks. */
function mutated(random: () => number, frame: Buffer): Buffer {
  const copy = Buffer.from(frame);
  const flips = 1 + Math.floor(random() * 4);
  for (let i = 0; i < flips; i++) {
    const at = Math.floor(random() * copy.length);
    copy[at] = (copy[at] as number) ^ (1 + Math.floor(random() * 255));
  }
  return copy;
}

const clientPayloads = [
  '{"id":1,"type":"command","session":{"clientId":"fuzz","seq":1},"op":{"f":"put","key":"k","value":"v"}}',
  '{"id":2,"type":"read","op":{"f":"get","key":"k","value":null}}',
  '{"id":3,"type":"status"}',
  '{"id":4,"type":"removeMember","nodeId":99}',
  "{}",
  "[]",
  '{"id":"x","type":"command"}',
  '{"id":5,"type":"nope"}',
  "not json at all",
];

/** One fuzzed frame for a port: random bytes, a mutated good frame, a lying length, or junk JSON. */
function fuzzedFrame(random: () => number, port: Port, clusterId: string, target: number): Buffer {
  const kind = Math.floor(random() * 5);
  const good =
    port === "peer"
      ? encodeFrame(encodeHello({ clusterId, fromNodeId: 1 + Math.floor(random() * 3), toNodeId: target, dialerNonce: newNonce() }))
      : encodeFrame(Buffer.from(clientPayloads[Math.floor(random() * clientPayloads.length)] as string));
  switch (kind) {
    case 0:
      return randomBytes(random, 1 + Math.floor(random() * 64));
    case 1:
      return mutated(random, good);
    case 2: {
      // A header claiming a huge payload: the node must refuse it without waiting for or buffering it.
      const header = Buffer.alloc(FRAME_HEADER_BYTES);
      header.writeUInt32BE(0xffff_fff0, 0);
      return header;
    }
    case 3:
      // A well-formed frame of random bytes (a valid checksum over garbage).
      return encodeFrame(randomBytes(random, Math.floor(random() * 200)));
    default:
      // For the peer port: a handshake for another cluster or node; for the client port: junk JSON.
      return port === "peer" ? encodeFrame(encodeHello({ clusterId: `${clusterId}-other`, fromNodeId: 7, toNodeId: target, dialerNonce: newNonce() })) : good;
  }
}

/** Sends frames on one connection; resolves when the node closes it or after a short pause. */
function throwFrames(address: string, frames: Buffer[]): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(parseHostPort(address));
    const done = (): void => {
      socket.destroy();
      resolve();
    };
    socket.on("error", done);
    socket.on("close", done);
    socket.on("data", () => undefined);
    socket.on("connect", () => {
      for (const frame of frames) {
        if (socket.destroyed) break;
        socket.write(frame);
      }
      setTimeout(done, 20);
    });
  });
}

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await TestCluster.create({ size: 3 });
});
afterAll(async () => {
  await cluster?.destroy();
});

describe("fuzzed frames at live nodes", () => {
  it(`${FRAMES} random and mutated frames leave every node up and serving`, async () => {
    await cluster.waitForLeader();
    await cluster.put("before", "1");
    const random = seededRandom(SEED);
    const jobs: Array<() => Promise<void>> = [];
    for (let sent = 0; sent < FRAMES; sent += FRAMES_PER_CONNECTION) {
      const target = 1 + Math.floor(random() * 3);
      const port: Port = random() < 0.5 ? "peer" : "client";
      const node = cluster.node(target);
      const frames = Array.from({ length: FRAMES_PER_CONNECTION }, () => fuzzedFrame(random, port, "raftlab", target));
      jobs.push(() => throwFrames(port === "peer" ? node.peerAddress : node.clientAddress, frames));
    }
    for (let i = 0; i < jobs.length; i += CONCURRENT_CONNECTIONS) {
      await Promise.all(jobs.slice(i, i + CONCURRENT_CONNECTIONS).map((job) => job()));
    }
    for (const id of [1, 2, 3]) {
      expect(cluster.node(id).process?.exitCode ?? null, `node ${id} exited; its log:\n${cluster.node(id).output.slice(-2000)}`).toBeNull();
      expect((await cluster.status(id))?.voters).toEqual([1, 2, 3]);
    }
    // The frames did arrive: the nodes logged the connections they closed at a bad frame, a few
    // lines per kind of refusal every 10 s (rate-limited), not one line per bad frame.
    const output = [1, 2, 3].map((id) => cluster.node(id).output).join("");
    const closedPeer = output.split('"msg":"transport: closing a bad inbound connection"').length - 1;
    const closedClient = output.split('"msg":"client connection sent a bad frame; closing it"').length - 1;
    expect(closedPeer).toBeGreaterThan(0);
    expect(closedClient).toBeGreaterThan(0);
    expect(closedPeer + closedClient).toBeLessThan(FRAMES / 10);
    await cluster.waitForLeader();
    expect(await cluster.get("before")).toBe("1");
    await cluster.put("after", "2");
    expect(await cluster.get("after")).toBe("2");
  }, 180_000);
});
