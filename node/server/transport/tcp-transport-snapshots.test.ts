// Snapshots larger than a frame between real TcpTransports: streamed in chunks, reassembled, and
// reported to the sender; broken streams end in a failure report (so the core resends) and never
// in a half-delivered snapshot.
import net from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { waitUntil } from "../../../test/fuzz/wait-until.js";
import type { Message, NodeId } from "../../raft/messages.js";
import { encodeFrame, FrameDecoder } from "./frame-codec.js";
import { decodeHello, encodeChallenge, handshakeProof, newNonce } from "./peer-handshake.js";
import { connectPeerSocket } from "./testing/peer-socket.js";
import { encodeSnapshotChunk } from "./snapshot-chunk-codec.js";
import { SnapshotChunker } from "./snapshot-chunks.js";
import { RecordingLogger } from "../../../lib/testing/recording-logger.js";
import { TcpTransport, type TcpTransportOptions } from "./tcp-transport.js";

const FRAME_BYTES_MAX = 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
const SECRET = Buffer.from("snapshot-test-secret-0123456789abcdef", "utf8");

const open: TcpTransport[] = [];
const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((transport) => transport.close()));
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

interface Node {
  transport: TcpTransport;
  received: Message[];
  snapshotStatus: [NodeId, boolean][];
  logger: RecordingLogger;
}

async function startNode(nodeId: NodeId, options: Partial<TcpTransportOptions> = {}): Promise<Node> {
  const received: Message[] = [];
  const snapshotStatus: [NodeId, boolean][] = [];
  const logger = new RecordingLogger();
  const transport = new TcpTransport({
    nodeId,
    clusterId: "test-cluster",
    listen: "127.0.0.1:0",
    peers: new Map(),
    onMessage: (message) => received.push(message),
    onSnapshotStatus: (peerId, ok) => snapshotStatus.push([peerId, ok]),
    logger,
    frameBytesMax: FRAME_BYTES_MAX,
    snapshotChunkBytes: CHUNK_BYTES,
    backoff: { initialDelayMs: 5, maxDelayMs: 50 },
    secret: SECRET,
    ...options,
  });
  open.push(transport);
  await transport.start(AbortSignal.timeout(5000));
  return { transport, received, snapshotStatus, logger };
}

async function startPair(): Promise<[Node, Node]> {
  const a = await startNode(1);
  const b = await startNode(2, { peers: new Map([[1, a.transport.listenAddress]]) });
  a.transport.addPeer(2, b.transport.listenAddress);
  await waitUntil(() => a.transport.stats().connectedPeers === 1, AbortSignal.timeout(5000), "node 1 to connect to node 2");
  return [a, b];
}

function pattern(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) {
    bytes[i] = (i * 131 + seed + (i >> 10)) & 0xff;
  }
  return bytes;
}

function snap(from: NodeId, to: NodeId, index: number, data: Uint8Array): Message {
  return {
    type: "snap",
    from,
    to,
    term: 7,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: index,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    context: new Uint8Array(),
    snapshot: { metadata: { index, term: 6, confState: { voters: [1, 2, 3] } }, data },
  };
}

function heartbeat(from: NodeId, to: NodeId, tag: number): Message {
  return {
    type: "heartbeat",
    from,
    to,
    term: 7,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    context: Buffer.from([tag]),
  };
}

/** A raw connection to `node` that has completed the handshake as `fromNodeId`. */
async function rawPeer(node: Node, fromNodeId: NodeId): Promise<net.Socket> {
  const address = node.transport.listenAddress;
  const { socket } = await connectPeerSocket({ address, clusterId: "test-cluster", fromNodeId, toNodeId: node.transport.nodeId, secret: SECRET });
  return socket;
}

function chunkFrames(message: Message): Buffer[] {
  const chunker = new SnapshotChunker(message, CHUNK_BYTES);
  const frames: Buffer[] = [];
  for (let chunk = chunker.next(); chunk !== undefined; chunk = chunker.next()) {
    frames.push(encodeFrame(encodeSnapshotChunk(chunk)));
  }
  return frames;
}

describe("snapshots larger than a frame", () => {
  test("stream in chunks with heartbeats between them, arrive whole, and are reported sent", async () => {
    const [a, b] = await startPair();
    const data = pattern(5 * FRAME_BYTES_MAX + 123, 1);
    a.transport.send([snap(1, 2, 500, data)]);
    a.transport.send([heartbeat(1, 2, 1), heartbeat(1, 2, 2)]);
    await waitUntil(() => b.received.length === 3 && a.snapshotStatus.length === 1, AbortSignal.timeout(20_000), "the snapshot and heartbeats");
    const delivered = b.received.find((m) => m.type === "snap")!;
    expect(delivered.snapshot!.metadata).toEqual({ index: 500, term: 6, confState: { voters: [1, 2, 3] } });
    expect(Buffer.from(delivered.snapshot!.data).equals(data)).toBe(true);
    expect(b.received.filter((m) => m.type === "heartbeat").map((m) => m.context[0])).toEqual([1, 2]);
    expect(a.snapshotStatus).toEqual([[2, true]]);
    const chunks = Math.ceil(data.length / CHUNK_BYTES);
    expect(a.transport.stats()).toMatchObject({ snapshotsStreamed: 1, framesOut: chunks + 2, droppedQueueFull: 0, droppedTooLarge: 0 });
    expect(b.transport.stats()).toMatchObject({ snapshotsReassembled: 1, messagesIn: 3, framesIn: chunks + 2, badSnapshotChunks: 0 });
    expect(b.logger.find("info", /received a snapshot in chunks/)[0]?.fields).toMatchObject({ peer: 1, index: 500, bytes: data.length, chunks });
  });

  test("a snapshot that fits one chunk goes as one frame and is reported at once", async () => {
    const [a, b] = await startPair();
    a.transport.send([snap(1, 2, 9, pattern(CHUNK_BYTES, 2))]);
    expect(a.snapshotStatus).toEqual([[2, true]]);
    await waitUntil(() => b.received.length === 1, AbortSignal.timeout(10_000), "the snapshot");
    expect(a.transport.stats().snapshotsStreamed).toBe(0);
  });

  test("a newer snapshot for the same peer replaces the one in progress; only it is reported and delivered", async () => {
    const [a, b] = await startPair();
    a.transport.send([snap(1, 2, 100, pattern(4 * FRAME_BYTES_MAX, 3))]);
    const newer = pattern(3 * FRAME_BYTES_MAX + 7, 4);
    a.transport.send([snap(1, 2, 200, newer)]);
    await waitUntil(() => a.snapshotStatus.length === 1 && b.received.length === 1, AbortSignal.timeout(20_000), "the newer snapshot");
    expect(a.snapshotStatus).toEqual([[2, true]]);
    expect(b.received.map((m) => m.snapshot!.metadata.index)).toEqual([200]);
    expect(Buffer.from(b.received[0]!.snapshot!.data).equals(newer)).toBe(true);
    expect(a.logger.find("info", /replaced by a newer one/)[0]?.fields).toMatchObject({ peer: 2, index: 100 });
  });

  test("a newer snapshot small enough for one frame also replaces a stream in progress", async () => {
    const [a, b] = await startPair();
    a.transport.send([snap(1, 2, 100, pattern(4 * FRAME_BYTES_MAX, 3))]);
    a.transport.send([snap(1, 2, 200, pattern(100, 4)), heartbeat(1, 2, 1)]);
    await waitUntil(() => b.received.length === 2, AbortSignal.timeout(10_000), "the small snapshot and the heartbeat");
    expect(b.received.map((m) => m.snapshot?.metadata.index)).toEqual([200, undefined]);
    expect(a.snapshotStatus).toEqual([[2, true]]);
    expect(a.transport.stats().framesOut).toBe(2);
  });

  test("a connection lost mid-stream reports the snapshot failed", async () => {
    // A peer that accepts (answering the handshake), reads a little, then drops the connection.
    const server = net.createServer((socket) => {
      let bytes = 0;
      const decoder = new FrameDecoder();
      socket.on("data", (chunk: Buffer) => {
        if (bytes === 0) {
          const hello = decodeHello(decoder.push(chunk)[0]!, "hello");
          const acceptorNonce = newNonce();
          socket.write(encodeFrame(encodeChallenge({ acceptorNonce, acceptorProof: handshakeProof(SECRET, "accept", hello, acceptorNonce) })));
        }
        bytes += chunk.length;
        if (bytes > 3 * CHUNK_BYTES) {
          socket.destroy();
        }
      });
      socket.on("error", () => undefined);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    const a = await startNode(1, { peers: new Map([[2, `127.0.0.1:${port}`]]), backoff: { initialDelayMs: 10_000, maxDelayMs: 10_000 } });
    await waitUntil(() => a.transport.stats().connectedPeers === 1, AbortSignal.timeout(5000), "the connection");
    a.transport.send([snap(1, 2, 300, pattern(8 * FRAME_BYTES_MAX, 5))]);
    await waitUntil(() => a.snapshotStatus.length === 1, AbortSignal.timeout(10_000), "the snapshot's outcome");
    expect(a.snapshotStatus).toEqual([[2, false]]);
    expect(a.logger.find("warn", /snapshot stream failed/)[0]?.fields).toMatchObject({ peer: 2, index: 300 });
  });

  test("a snapshot to a peer with no connection is reported failed at once", async () => {
    const a = await startNode(1, { peers: new Map([[2, "127.0.0.1:1"]]), backoff: { initialDelayMs: 10_000, maxDelayMs: 10_000 } });
    a.transport.send([snap(1, 2, 300, pattern(2 * FRAME_BYTES_MAX, 6)), snap(1, 9, 300, pattern(10, 6))]);
    expect(a.snapshotStatus).toEqual([
      [2, false],
      [9, false],
    ]);
  });

  test("a chunk out of order closes the connection, is counted and logged, and nothing is delivered", async () => {
    const b = await startNode(2, { peers: new Map([[1, "127.0.0.1:1"]]), backoff: { initialDelayMs: 10_000, maxDelayMs: 10_000 } });
    const frames = chunkFrames(snap(1, 2, 40, pattern(5 * CHUNK_BYTES, 7)));
    const socket = await rawPeer(b, 1);
    socket.write(Buffer.concat([frames[0]!, frames[1]!, frames[3]!]));
    await new Promise((resolve) => socket.once("close", resolve));
    expect(b.received).toEqual([]);
    expect(b.transport.stats()).toMatchObject({ badSnapshotChunks: 1, messagesIn: 0 });
    expect(b.logger.find("warn", /closing a bad inbound connection/)[0]?.fields).toMatchObject({
      counter: "badSnapshotChunks",
      reason: expect.stringMatching(/^frame 4 from node 1 \(127\.0\.0\.1:\d+\): chunk 3 arrived, chunk 2 was expected$/) as unknown,
    });
  });

  test("a partial snapshot dies with its connection; the next connection's snapshot arrives whole", async () => {
    const b = await startNode(2, { peers: new Map([[1, "127.0.0.1:1"]]), backoff: { initialDelayMs: 10_000, maxDelayMs: 10_000 } });
    const signal = AbortSignal.timeout(10_000);
    const first = await rawPeer(b, 1);
    first.write(Buffer.concat(chunkFrames(snap(1, 2, 40, pattern(5 * CHUNK_BYTES, 8))).slice(0, 3)));
    await waitUntil(() => b.transport.stats().framesIn === 3, signal, "three chunks");
    first.destroy();
    await waitUntil(() => b.logger.find("info", /discarded a partial snapshot/).length === 1, signal, "the partial snapshot to be discarded");
    expect(b.logger.find("info", /discarded a partial snapshot/)[0]?.fields).toMatchObject({ peer: 1, receivedBytes: 3 * CHUNK_BYTES });

    const second = await rawPeer(b, 1);
    const data = pattern(4 * CHUNK_BYTES + 1, 9);
    second.end(Buffer.concat(chunkFrames(snap(1, 2, 60, data))));
    await waitUntil(() => b.received.length === 1, signal, "the second snapshot");
    expect(b.received[0]!.snapshot!.metadata.index).toBe(60);
    expect(Buffer.from(b.received[0]!.snapshot!.data).equals(data)).toBe(true);
    expect(b.transport.stats()).toMatchObject({ badSnapshotChunks: 0, snapshotsReassembled: 1 });
  });

  test("a chunk claiming another sender closes the connection as a bad message", async () => {
    const b = await startNode(2, {
      peers: new Map([
        [1, "127.0.0.1:1"],
        [3, "127.0.0.1:1"],
      ]),
      backoff: { initialDelayMs: 10_000, maxDelayMs: 10_000 },
    });
    const socket = await rawPeer(b, 1);
    socket.write(chunkFrames(snap(3, 2, 40, pattern(2 * CHUNK_BYTES, 10)))[0]!);
    await new Promise((resolve) => socket.once("close", resolve));
    expect(b.transport.stats()).toMatchObject({ badMessages: 1, badSnapshotChunks: 0 });
    expect(b.logger.find("warn", /closing a bad inbound connection/)[0]?.fields["reason"]).toMatch(
      /snapshot chunk from node 3 to node 2 on a connection from node 1 to node 2$/,
    );
  });
});
