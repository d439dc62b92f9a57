import net from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { waitUntil } from "../../../test/fuzz/wait-until.js";
import type { Message, NodeId } from "../../raft/messages.js";
import { encodeFrame } from "./frame-codec.js";
import { encodeMessage } from "./message-codec.js";
import { DialerHandshake, encodeProof } from "./peer-handshake.js";
import { connectPeerSocket } from "./testing/peer-socket.js";
import { RecordingLogger } from "../../../lib/testing/recording-logger.js";
import { TcpTransport, type TcpTransportOptions } from "./tcp-transport.js";
import { parseHostPort } from "../../../lib/host-port.js";

const SECRET = Buffer.from("test-secret-0123456789abcdef0123456789", "utf8");
const open: TcpTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((transport) => transport.close()));
});

interface Node {
  transport: TcpTransport;
  received: Message[];
  unreachable: NodeId[];
  logger: RecordingLogger;
}

async function startNode(nodeId: NodeId, options: Partial<TcpTransportOptions> = {}): Promise<Node> {
  const received: Message[] = [];
  const unreachable: NodeId[] = [];
  const logger = new RecordingLogger();
  const transport = new TcpTransport({
    nodeId,
    clusterId: "test-cluster",
    listen: "127.0.0.1:0",
    peers: new Map(),
    onMessage: (message) => received.push(message),
    onUnreachable: (peerId) => unreachable.push(peerId),
    logger,
    backoff: { initialDelayMs: 5, maxDelayMs: 50 },
    secret: SECRET,
    ...options,
  });
  open.push(transport);
  await transport.start(AbortSignal.timeout(5000));
  return { transport, received, unreachable, logger };
}

/** Starts nodes 1..count and introduces every pair. */
async function startCluster(count: number, options: Partial<TcpTransportOptions> = {}): Promise<Node[]> {
  const nodes: Node[] = [];
  for (let id = 1; id <= count; id++) {
    nodes.push(await startNode(id, options));
  }
  for (const node of nodes) {
    for (const peer of nodes) {
      node.transport.addPeer(peer.transport.nodeId, peer.transport.listenAddress);
    }
  }
  return nodes;
}

function message(from: NodeId, to: NodeId, index: number, extra: Partial<Message> = {}): Message {
  return {
    type: "app",
    from,
    to,
    term: 3,
    logTerm: 2,
    index,
    commit: index,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    context: new Uint8Array(),
    entries: [{ term: 3, index: index + 1, type: "normal", data: Buffer.from(`payload ${from}->${to} #${index}`) }],
    ...extra,
  };
}

const indexes = (messages: readonly Message[], from: NodeId): number[] => messages.filter((m) => m.from === from).map((m) => m.index);

describe("TcpTransport", () => {
  test("three nodes exchange messages, in order per sender", async () => {
    const nodes = await startCluster(3);
    for (const sender of nodes) {
      for (const target of nodes) {
        if (sender !== target) {
          const from = sender.transport.nodeId;
          const to = target.transport.nodeId;
          sender.transport.send(Array.from({ length: 200 }, (_, k) => message(from, to, k)));
        }
      }
    }
    const signal = AbortSignal.timeout(10_000);
    for (const node of nodes) {
      await waitUntil(() => node.received.length === 400, signal, `node ${node.transport.nodeId} to receive 400 messages`);
    }
    const expected = Array.from({ length: 200 }, (_, k) => k);
    for (const node of nodes) {
      for (const other of nodes.filter((n) => n !== node)) {
        expect(indexes(node.received, other.transport.nodeId)).toEqual(expected);
      }
      const stats = node.transport.stats();
      expect(stats).toMatchObject({ messagesIn: 400, framesIn: 400, framesOut: 400, badFrames: 0, badMessages: 0, handshakesRejected: 0, droppedQueueFull: 0 });
    }
    const sample = nodes[1]!.received.find((m) => m.from === 1 && m.index === 7)!;
    expect(Buffer.from(sample.entries[0]!.data).toString()).toBe("payload 1->2 #7");
  });

  test("reconnects after the peer restarts on the same address, and reports it unreachable meanwhile", async () => {
    const [a, b] = await startCluster(2);
    const signal = AbortSignal.timeout(10_000);
    a!.transport.send([message(1, 2, 1)]);
    await waitUntil(() => b!.received.length === 1, signal, "first message");
    const address = b!.transport.listenAddress;
    await b!.transport.close();
    await waitUntil(() => a!.unreachable.includes(2), signal, "node 2 reported unreachable");

    a!.transport.send([message(1, 2, 2), message(1, 2, 3)]); // queued while node 2 is down
    const restarted = await startNode(2, { listen: address, peers: new Map([[1, a!.transport.listenAddress]]) });
    await waitUntil(() => restarted.received.length === 2, signal, "queued messages after the restart");
    expect(indexes(restarted.received, 1)).toEqual([2, 3]);
    expect(a!.transport.stats().reconnects).toBeGreaterThanOrEqual(1);
    restarted.transport.send([message(2, 1, 9)]);
    await waitUntil(() => a!.received.length === 1, signal, "reply from the restarted node");
  });

  test("a dialer with the wrong cluster id is rejected and its messages never delivered", async () => {
    const a = await startNode(1);
    const intruder = await startNode(2, { clusterId: "other-cluster", peers: new Map([[1, a.transport.listenAddress]]) });
    a.transport.addPeer(2, intruder.transport.listenAddress);
    intruder.transport.send([message(2, 1, 1)]);
    await waitUntil(() => a.transport.stats().handshakesRejected >= 2, AbortSignal.timeout(10_000), "repeated rejections");
    expect(a.received).toEqual([]);
    expect(a.logger.find("warn", /closing a bad inbound connection/)[0]?.fields).toMatchObject({
      counter: "handshakesRejected",
      reason: 'cluster id "other-cluster" is not ours ("test-cluster")',
    });
  });

  test("a dialer that is not a known peer is rejected", async () => {
    const a = await startNode(1);
    const stranger = await startNode(5, { peers: new Map([[1, a.transport.listenAddress]]) });
    stranger.transport.send([message(5, 1, 1)]);
    await waitUntil(() => a.transport.stats().handshakesRejected >= 1, AbortSignal.timeout(10_000), "rejection");
    expect(a.received).toEqual([]);
    expect(a.logger.find("warn", /closing a bad inbound connection/)[0]?.fields["reason"]).toBe("node 5 is not a known peer");
  });

  test("a follower's append responses queued together reach the leader as the highest of each term", async () => {
    const [leader, follower] = await startCluster(2);
    const ack = (index: number, extra: Partial<Message> = {}): Message => message(2, 1, index, { type: "appResp", entries: [], ...extra });
    // One event-loop turn's sends, written together: 5 is superseded by 9, 7 adds nothing after 9;
    // a rejection and another term's acknowledgement are different news and stay.
    follower!.transport.send([ack(5), message(2, 1, 6), ack(9), ack(7), ack(3, { reject: true, rejectHint: 3 }), ack(2, { term: 4 })]);
    await waitUntil(() => leader!.received.length === 4, AbortSignal.timeout(10_000), "the four messages that say something new");
    expect(leader!.received.map((m) => [m.type, m.term, m.index, m.reject])).toEqual([
      ["app", 3, 6, false],
      ["appResp", 3, 9, false],
      ["appResp", 3, 3, true],
      ["appResp", 4, 2, false],
    ]);
    expect(follower!.transport.stats()).toMatchObject({ framesOut: 4, droppedQueueFull: 0 });
  });

  test("flush() writes what send() queued at once, not at the end of the turn", async () => {
    const [sender, receiver] = await startCluster(2);
    sender!.transport.send([message(1, 2, 1)]);
    await waitUntil(() => receiver!.received.length === 1, AbortSignal.timeout(10_000), "the first message over the new connection");
    sender!.transport.send([message(1, 2, 2), message(1, 2, 3)]);
    expect(sender!.transport.stats().framesOut).toBe(1); // queued for the end of the turn
    sender!.transport.flush();
    expect(sender!.transport.stats().framesOut).toBe(3); // written now, in this turn
    sender!.transport.flush(); // nothing queued: nothing written
    expect(sender!.transport.stats().framesOut).toBe(3);
    await waitUntil(() => receiver!.received.length === 3, AbortSignal.timeout(10_000), "both flushed messages");
    expect(indexes(receiver!.received, 1)).toEqual([1, 2, 3]);
  });

  test("a full queue drops the oldest messages and keeps the newest", async () => {
    const parked = await startNode(2);
    const address = parked.transport.listenAddress;
    await parked.transport.close(); // nothing listens there now
    const a = await startNode(1, { queuedMessagesMax: 10, peers: new Map([[2, address]]) });
    a.transport.send(Array.from({ length: 100 }, (_, k) => message(1, 2, k)));
    expect(a.transport.stats().droppedQueueFull).toBe(90);
    const b = await startNode(2, { listen: address, peers: new Map([[1, a.transport.listenAddress]]) });
    await waitUntil(() => b.received.length === 10, AbortSignal.timeout(10_000), "the queued messages");
    expect(indexes(b.received, 1)).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
  });

  test("a message whose sender disagrees with the handshake closes the connection", async () => {
    const a = await startNode(1, {
      peers: new Map([
        [2, "127.0.0.1:1"],
        [3, "127.0.0.1:1"],
      ]),
    });
    const { socket } = await connectPeerSocket({ address: a.transport.listenAddress, clusterId: "test-cluster", fromNodeId: 2, toNodeId: 1, secret: SECRET });
    socket.write(encodeFrame(encodeMessage(message(2, 1, 1))));
    socket.write(encodeFrame(encodeMessage(message(3, 1, 2))));
    socket.write(encodeFrame(encodeMessage(message(2, 1, 3))));
    await new Promise((resolve) => socket.once("close", resolve));
    expect(indexes(a.received, 2)).toEqual([1]);
    expect(a.transport.stats()).toMatchObject({ badMessages: 1, messagesIn: 1 });
    expect(a.logger.find("warn", /closing a bad inbound connection/)[0]?.fields["reason"]).toMatch(
      /^frame 3 from node 2 \(127\.0\.0\.1:\d+\): message from node 3 to node 1 on a connection from node 2 to node 1$/,
    );
  });

  test("sends to unknown peers are counted; removePeer stops delivery both ways", async () => {
    // A slow redial, so node 2's (rejected) reconnection attempts do not race the assertions.
    const [a, b] = await startCluster(2, { backoff: { initialDelayMs: 10_000, maxDelayMs: 10_000 } });
    a!.transport.send([message(1, 9, 1), message(1, 1, 1)]);
    expect(a!.transport.stats().droppedUnknownPeer).toBe(2);
    const signal = AbortSignal.timeout(10_000);
    b!.transport.send([message(2, 1, 1)]);
    await waitUntil(() => a!.received.length === 1 && a!.transport.stats().inboundConnections === 1, signal, "a connection from node 2");
    a!.transport.removePeer(2);
    await waitUntil(() => a!.transport.stats().inboundConnections === 0, signal, "node 2's connection to close");
    expect([...a!.transport.peers().keys()]).toEqual([]);
    a!.transport.send([message(1, 2, 2)]);
    expect(a!.transport.stats().droppedUnknownPeer).toBe(3);
  });

  test("nodes with different secrets never exchange a message; an insecure node cannot join a secured one", async () => {
    const [a] = await startCluster(1);
    const impostor = await startNode(2, {
      secret: Buffer.from("another-secret-0123456789abcdef0123456", "utf8"),
      peers: new Map([[1, a!.transport.listenAddress]]),
    });
    const insecure = await startNode(3, { secret: undefined, peers: new Map([[1, a!.transport.listenAddress]]) });
    a!.transport.addPeer(2, impostor.transport.listenAddress);
    a!.transport.addPeer(3, insecure.transport.listenAddress);
    impostor.transport.send([message(2, 1, 1)]);
    insecure.transport.send([message(3, 1, 1)]);
    a!.transport.send([message(1, 2, 1), message(1, 3, 1)]);
    const signal = AbortSignal.timeout(10_000);
    // Each dialer checks the acceptor's proof first, so every attempt fails on the dialing side.
    const failed = (node: Node): boolean => node.logger.find("warn", /peer refused our handshake/).length > 0;
    await waitUntil(() => failed(a!) && failed(impostor) && failed(insecure), signal, "refused handshakes on every side");
    expect(a!.received).toEqual([]);
    expect(impostor.received).toEqual([]);
    expect(insecure.received).toEqual([]);
    expect(a!.logger.find("warn", /peer refused our handshake/)[0]?.fields["error"]).toMatch(
      /acceptorProof .*does not match: the peer does not hold this cluster's secret/,
    );
  });

  test("a replayed handshake fails: the proof answers another connection's challenge", async () => {
    const a = await startNode(1, { peers: new Map([[2, "127.0.0.1:1"]]) });
    const recorded = await connectPeerSocket({ address: a.transport.listenAddress, clusterId: "test-cluster", fromNodeId: 2, toNodeId: 1, secret: SECRET });
    recorded.socket.destroy();
    const socket = net.connect(parseHostPort(a.transport.listenAddress));
    socket.on("error", () => undefined);
    socket.resume(); // read the challenge, so the node's close is seen
    socket.write(Buffer.concat([...recorded.sent, encodeFrame(encodeMessage(message(2, 1, 1)))]));
    await new Promise((resolve) => socket.once("close", resolve));
    expect(a.received).toEqual([]);
    expect(a.transport.stats().handshakesRejected).toBe(1);
  });

  test("frames sent before the proof, or a proof without the secret, are refused", async () => {
    const a = await startNode(1, { peers: new Map([[2, "127.0.0.1:1"]]) });
    const handshake = new DialerHandshake(undefined, "test-cluster", 2, 1);
    for (const afterHello of [encodeFrame(encodeMessage(message(2, 1, 1))), encodeFrame(encodeProof(Buffer.alloc(32)))]) {
      const socket = net.connect(parseHostPort(a.transport.listenAddress));
      socket.on("error", () => undefined);
      socket.resume(); // read the challenge, so the node's close is seen
      socket.write(Buffer.concat([encodeFrame(handshake.helloFrame()), afterHello]));
      await new Promise((resolve) => socket.once("close", resolve));
    }
    expect(a.received).toEqual([]);
    expect(a.transport.stats().handshakesRejected).toBe(2);
  });

  test("a half-sent handshake is dropped at the deadline, and unauthenticated connections are capped", async () => {
    const a = await startNode(1, { peers: new Map([[2, "127.0.0.1:1"]]), handshakeTimeoutMs: 200, handshakesInflightMax: 2 });
    const port = Number(a.transport.listenAddress.split(":")[1]);
    const sockets = Array.from({ length: 4 }, () => {
      const socket = net.connect(port, "127.0.0.1");
      socket.on("error", () => undefined);
      socket.write(Buffer.from([0, 0, 0, 40]));
      return socket;
    });
    await Promise.all(sockets.map((socket) => new Promise((resolve) => socket.once("close", resolve))));
    await waitUntil(() => a.transport.stats().inboundConnections === 0, AbortSignal.timeout(5000), "the node to close every connection");
    expect(a.transport.stats()).toMatchObject({ inboundRefused: 2, handshakesRejected: 2 });
  });
});
