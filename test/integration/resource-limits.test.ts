// Bounded resources: a live 3-node cluster whose nodes run with `ulimit -n 256` and snapshot every
// 200 entries is flooded, at its leader, with each abuse from issue 15: many idle connections on
// both ports, half-sent client frames, a client that never reads its answers, and fake peers that
// never finish a handshake. The leader must keep serving (writes commit, snapshots are taken, no
// EMFILE) and its peak resident memory must stay under RSS_BOUND_BYTES (stated in the README).
import { readFileSync } from "node:fs";
import net from "node:net";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { parseHostPort } from "../../lib/host-port.js";
import { encodeFrame, FRAME_HEADER_BYTES } from "../../node/server/transport/frame-codec.js";
import { encodeHello, newNonce } from "../../node/server/transport/peer-handshake.js";
import { TestCluster, waitFor } from "./cluster-helpers.js";

/** Peak RSS a flooded node may reach: about 3x its idle size (60-80 MB), well below the 600-980 MB of issue 15. */
const RSS_BOUND_BYTES = 256 * 1024 * 1024;
const FD_LIMIT = 256;

let cluster: TestCluster;
let leader: number;
const opened: net.Socket[] = [];
beforeAll(async () => {
  cluster = await TestCluster.create({ size: 3, fdLimit: FD_LIMIT, flags: ["--snapshot-every", "200"] });
  leader = await cluster.waitForLeader();
  await cluster.put("k", "v0"); // opens the helper's own connection before the floods
});
beforeEach(async () => {
  leader = await cluster.waitForLeader(); // a flood may cost the leader its lease: aim at the current one
});
afterAll(async () => {
  for (const socket of opened) {
    socket.destroy();
  }
  await cluster?.destroy();
});

/** Opens a connection that counts as closed once the node closes it (or refuses it). */
function connect(address: string): { socket: net.Socket; closed: Promise<void> } {
  const socket = net.connect(parseHostPort(address));
  opened.push(socket);
  socket.on("error", () => undefined);
  socket.resume(); // read (and drop) what the node sends, so its close is seen
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return { socket, closed };
}

function peakRssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((text) => text.startsWith("VmHWM:"));
  return Number(/(\d+)/.exec(line ?? "")?.[1]) * 1024;
}

function leaderLog(): string {
  return cluster.node(leader).output;
}

async function putMany(prefix: string, count: number): Promise<void> {
  for (let k = 0; k < count; k++) {
    await cluster.put(`${prefix}-${k % 50}`, String(k));
  }
}

it("idle connections on both ports are capped before descriptors run out: writes and snapshots go on", async () => {
  const before = leaderLog().split("took a snapshot").length;
  const idle = [
    ...Array.from({ length: 400 }, () => connect(cluster.node(leader).clientAddress)),
    ...Array.from({ length: 100 }, () => connect(cluster.node(leader).peerAddress)),
  ];
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await putMany("idle", 450); // over two snapshots' worth
  expect(leaderLog().split("took a snapshot").length - before).toBeGreaterThanOrEqual(2);
  expect(leaderLog()).not.toMatch(/EMFILE|fatal error/);
  expect(leaderLog()).toMatch(/no file descriptors left for connections/);
  for (const { socket } of idle) {
    socket.destroy();
  }
});

it("half-sent client frames are dropped at the byte budget or the frame deadline", async () => {
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUInt32BE(1024 * 1024 - 1, 0); // announces the largest client frame
  const partial = Buffer.concat([header, Buffer.alloc(512 * 1024, 7)]);
  const senders = Array.from({ length: 600 }, () => {
    const sender = connect(cluster.node(leader).clientAddress);
    sender.socket.once("connect", () => sender.socket.write(partial));
    return sender;
  });
  await cluster.put("k", "v1"); // served during the flood
  // Every one is closed: refused at accept, over the partial-frame budget, or at the 10 s deadline.
  await Promise.race([
    Promise.all(senders.map((sender) => sender.closed)),
    new Promise((_, reject) => setTimeout(() => reject(new Error("half-sent frames still open after 20 s")), 20_000)),
  ]);
  expect(leaderLog()).toMatch(/a frame did not arrive whole in time|incomplete frames over all connections exceed their budget/);
});

it("a client that never reads its answers is paused, then disconnected", async () => {
  await cluster.put("big", "x".repeat(200_000));
  const reader = connect(cluster.node(leader).clientAddress);
  reader.socket.pause(); // never reads
  await new Promise<void>((resolve) => reader.socket.once("connect", () => resolve()));
  const frames: Buffer[] = [];
  for (let id = 1; id <= 2000; id++) {
    frames.push(encodeFrame(Buffer.from(JSON.stringify({ id, type: "read", op: { f: "get", key: "big", value: null } }))));
  }
  reader.socket.write(Buffer.concat(frames));
  await Promise.race([reader.closed, new Promise((resolve) => setTimeout(resolve, 5000))]);
  await cluster.put("k", "v2");
  expect(reader.socket.destroyed || reader.socket.readableLength < 2000 * 200_000).toBe(true);
  expect(leaderLog()).toMatch(/closing a client connection that does not read its answers|unsent answers exceed their budget/);
});

it("fake peers that never finish a handshake are capped and dropped", async () => {
  const hello = encodeFrame(encodeHello({ clusterId: "raftlab", fromNodeId: 1 + (leader % 3), toNodeId: leader, dialerNonce: newNonce() }));
  const bigHeader = Buffer.alloc(FRAME_HEADER_BYTES);
  bigHeader.writeUInt32BE(16 * 1024 * 1024 - 1, 0);
  const fakes = Array.from({ length: 60 }, () => {
    const fake = connect(cluster.node(leader).peerAddress);
    fake.socket.once("connect", () => fake.socket.write(Buffer.concat([hello, bigHeader, Buffer.alloc(64 * 1024)])));
    return fake;
  });
  await Promise.all(fakes.map((fake) => fake.closed));
  await cluster.put("k", "v3");
  expect(leaderLog()).toMatch(/FRAME_TOO_LARGE|too many connections still in their handshake/);
});

it(`kept every node's peak RSS under ${RSS_BOUND_BYTES / 2 ** 20} MiB and keeps serving`, async () => {
  const peaks = [1, 2, 3].map((id) => peakRssBytes(cluster.node(id).process!.pid!));
  console.log(`flooded nodes: peak RSS ${peaks.map((peak) => (peak / 2 ** 20).toFixed(1)).join(", ")} MiB (bound ${RSS_BOUND_BYTES / 2 ** 20} MiB)`);
  expect(Math.max(...peaks)).toBeLessThan(RSS_BOUND_BYTES);
  expect(await cluster.get("k")).toBe("v3");
  await waitFor("every node up", 5000, async () => (cluster.running().length === 3 ? true : undefined));
  // Refusals are rate-limited: a few lines per kind every 10 s, not one per connection.
  expect(
    leaderLog()
      .split("\n")
      .filter((line) => line.includes('"level":"warn"')).length,
  ).toBeLessThan(400);
});
