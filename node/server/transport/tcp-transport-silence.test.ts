// A peer's connection that stops delivering while we keep talking to it is closed, so the peer
// redials. The stall is made by a proxy that stops forwarding one connection's bytes but keeps it
// open, as a kernel in TCP retransmission backoff does after an iptables partition heals (seen on
// Docker: a follower heard its leader's heartbeats for 8 s while its answers sat in backoff).
import net from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { waitUntil } from "../../../test/fuzz/wait-until.js";
import type { Message, NodeId } from "../../raft/messages.js";
import { RecordingLogger } from "../../../lib/testing/recording-logger.js";
import { TcpTransport } from "./tcp-transport.js";
import { sleep } from "../../../lib/deadline.js";

const SILENT_PEER_MS = 200;
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) {
    await close();
  }
});

interface Node {
  transport: TcpTransport;
  received: Message[];
  logger: RecordingLogger;
}

async function startNode(nodeId: NodeId): Promise<Node> {
  const received: Message[] = [];
  const logger = new RecordingLogger();
  const transport = new TcpTransport({
    nodeId,
    clusterId: "silence-test",
    listen: "127.0.0.1:0",
    peers: new Map(),
    onMessage: (message) => received.push(message),
    logger,
    backoff: { initialDelayMs: 5, maxDelayMs: 50 },
    secret: Buffer.from("silence-test-secret-0123456789abcdef", "utf8"),
    silentPeerMs: SILENT_PEER_MS,
  });
  closers.push(() => transport.close());
  await transport.start(AbortSignal.timeout(5000));
  return { transport, received, logger };
}

/**
 * Forwards connections to `target`. stall() freezes the connections open now: their dialer's bytes
 * go nowhere and they stay open; a close from the receiving side still gets through unless
 * `closes` is false (a black hole, as when both directions are dropped).
 */
async function startProxy(target: string): Promise<{ address: string; stall(closes?: boolean): void; connections(): number }> {
  const [host, port] = target.split(":") as [string, string];
  const pairs: { stalled: boolean; closes: boolean }[] = [];
  let opened = 0;
  const server = net.createServer((client) => {
    opened += 1;
    const pair = { stalled: false, closes: true };
    pairs.push(pair);
    const upstream = net.connect({ host, port: Number(port) });
    client.on("data", (chunk) => {
      if (!pair.stalled) {
        upstream.write(chunk);
      }
    });
    upstream.on("data", (chunk) => client.write(chunk));
    // A close from the receiving side always gets through: only the dialer's data is held back.
    upstream.on("close", () => {
      if (!pair.stalled || pair.closes) {
        client.destroy();
      }
    });
    client.on("close", () => upstream.destroy());
    upstream.on("error", () => undefined);
    client.on("error", () => undefined);
    closers.push(() => {
      client.destroy();
      upstream.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port: proxyPort } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${proxyPort}`,
    stall: (closes = true) =>
      pairs.forEach((pair) => {
        pair.stalled = true;
        pair.closes = closes;
      }),
    connections: () => opened,
  };
}

function heartbeat(from: NodeId, to: NodeId, commit: number): Message {
  return {
    type: "heartbeat",
    from,
    to,
    term: 1,
    logTerm: 0,
    index: 0,
    commit,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    context: new Uint8Array(),
    entries: [],
  };
}

/** Node 1 reaches node 2 through the proxy; node 2 reaches node 1 directly. */
async function pairThroughProxy(): Promise<{ one: Node; two: Node; proxy: Awaited<ReturnType<typeof startProxy>> }> {
  const one = await startNode(1);
  const two = await startNode(2);
  const proxy = await startProxy(two.transport.listenAddress);
  one.transport.addPeer(2, proxy.address);
  two.transport.addPeer(1, one.transport.listenAddress);
  return { one, two, proxy };
}

describe("TcpTransport: silent peer connections", () => {
  test("a connection that stops delivering while we keep sending to its peer is closed, and the peer's redial delivers again", async () => {
    const { one, two, proxy } = await pairThroughProxy();
    const signal = AbortSignal.timeout(10_000);
    let sent = 0;
    const traffic = setInterval(() => {
      sent += 1;
      two.transport.send([heartbeat(2, 1, sent)]); // the "leader" keeps talking to node 1
      one.transport.send([heartbeat(1, 2, sent)]); // and node 1 answers, through the proxy
    }, 20);
    closers.push(() => clearInterval(traffic));
    await waitUntil(() => two.received.length > 0, signal, "node 1's first message at node 2");

    proxy.stall();
    const stalledAt = sent;
    await waitUntil(() => two.received.some((message) => message.commit > stalledAt + 5), signal, "node 1's messages after the stall");

    expect(two.transport.stats().silentClosed).toBeGreaterThanOrEqual(1);
    expect(two.logger.records.some((record) => record.message === "transport: closed a silent connection from peer")).toBe(true);
    expect(proxy.connections()).toBeGreaterThanOrEqual(2); // node 1 dialled again
    expect(one.received.length).toBeGreaterThan(stalledAt); // node 2's own connection was never in question
  });

  test("when the peer dials us anew, our older connection to it is dialed again", async () => {
    const { one, two, proxy } = await pairThroughProxy();
    const signal = AbortSignal.timeout(10_000);
    one.transport.send([heartbeat(1, 2, 1)]);
    await waitUntil(() => two.received.length === 1, signal, "node 1's first message at node 2");
    await sleep(2 * SILENT_PEER_MS); // node 1's connection is now older than the silence limit
    proxy.stall(false); // node 1's connection to node 2 is a black hole from now on
    // Node 2 forgets node 1 and learns it again, so it dials node 1 anew (as after a restart).
    two.transport.removePeer(1);
    two.transport.addPeer(1, one.transport.listenAddress);
    two.transport.send([heartbeat(2, 1, 1)]);
    await waitUntil(() => one.received.length === 1, signal, "node 2's message over its new connection");
    one.transport.send([heartbeat(1, 2, 2)]);
    await waitUntil(() => two.received.some((message) => message.commit === 2), signal, "node 1's message after its redial");
    expect(one.transport.stats().redials).toBe(1);
    expect(proxy.connections()).toBe(2);
  });

  test("a peer we are not sending to may stay silent: its connection is kept", async () => {
    const { one, two, proxy } = await pairThroughProxy();
    const signal = AbortSignal.timeout(10_000);
    one.transport.send([heartbeat(1, 2, 1)]);
    await waitUntil(() => two.received.length === 1, signal, "node 1's message at node 2");
    await sleep(4 * SILENT_PEER_MS);
    expect(two.transport.stats().silentClosed).toBe(0);
    expect(proxy.connections()).toBe(1);
  });
});
