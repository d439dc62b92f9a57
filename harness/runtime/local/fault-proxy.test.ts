import net from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { FaultProxy } from "./fault-proxy.js";
import { retransmissionOffsetMs } from "./proxied-connection.js";
import { TokenBucket } from "./token-bucket.js";
import { sleep } from "../../../lib/deadline.js";

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

/** A stand-in for node 2's peer port: records what it receives and echoes it back upper-cased. */
async function echoServer(): Promise<{ address: string; received: () => string; connections: () => number }> {
  let received = "";
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString();
      socket.write(chunk.toString().toUpperCase());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) {
          socket.destroy();
        }
        server.close(() => resolve());
      }),
  );
  return { address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, received: () => received, connections: () => connections };
}

async function startProxy(targetAddress: string, random?: () => number): Promise<FaultProxy> {
  const proxy = await FaultProxy.start({ source: 1, target: 2, targetAddress, ...(random === undefined ? {} : { random }) });
  cleanups.push(() => proxy.close());
  return proxy;
}

interface Dialled {
  socket: net.Socket;
  replies: () => string;
  closed: Promise<void>;
}

async function dial(proxy: FaultProxy): Promise<Dialled> {
  const socket = net.connect({ host: "127.0.0.1", port: proxy.port });
  let replies = "";
  socket.on("data", (chunk: Buffer) => {
    replies += chunk.toString();
  });
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  cleanups.push(() => {
    socket.destroy();
  });
  return { socket, replies: () => replies, closed };
}

async function until(condition: () => boolean, what: string, signal = AbortSignal.timeout(5000)): Promise<void> {
  while (!condition()) {
    if (signal.aborted) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await sleep(5);
  }
}

describe("FaultProxy", () => {
  test("forwards bytes both ways", async () => {
    const target = await echoServer();
    const proxy = await startProxy(target.address);
    const client = await dial(proxy);
    client.socket.write("hello");
    await until(() => client.replies() === "HELLO", "the echo");
    expect(target.received()).toBe("hello");
    expect(proxy.stats.bytesForwarded).toBe(10);
  });

  test("a blocked link discards what the source sends but keeps the connection open", async () => {
    const target = await echoServer();
    const proxy = await startProxy(target.address);
    const client = await dial(proxy);
    client.socket.write("a");
    await until(() => client.replies() === "A", "the first echo");

    proxy.setBlocked(true);
    client.socket.write("lost");
    await until(() => proxy.stats.bytesDropped === 4, "the drop to be counted");
    await sleep(50);
    expect(target.received()).toBe("a");
    expect(client.socket.destroyed).toBe(false);
    expect(proxy.openConnections).toBe(1);
  });

  test("blocking the reverse link drops the replies on a connection the source opened", async () => {
    const target = await echoServer();
    const proxy = await startProxy(target.address);
    const client = await dial(proxy);
    proxy.inbound.setBlocked(true);
    client.socket.write("ping");
    await until(() => target.received() === "ping", "the request to arrive");
    await until(() => proxy.stats.bytesDropped === 4, "the reply to be dropped");
    expect(client.replies()).toBe("");
  });

  test("unblocking closes the connections that lost bytes; new ones flow again", async () => {
    const target = await echoServer();
    const proxy = await startProxy(target.address);
    const client = await dial(proxy);
    proxy.setBlocked(true);
    client.socket.write("lost");
    await until(() => proxy.stats.bytesDropped === 4, "the drop");

    proxy.setBlocked(false);
    await client.closed;
    const fresh = await dial(proxy);
    fresh.socket.write("again");
    await until(() => fresh.replies() === "AGAIN", "the echo after unblocking");
    expect(target.received()).toBe("again");
  });

  test("a connection opened while blocked never reaches the target until unblocked", async () => {
    const target = await echoServer();
    const proxy = await startProxy(target.address);
    proxy.setBlocked(true);
    const client = await dial(proxy);
    client.socket.write("x");
    await until(() => proxy.stats.bytesDropped === 1, "the drop");
    expect(target.connections()).toBe(0);
    proxy.setBlocked(false);
    await client.closed;
  });

  test("heal clears every fault and resets open connections", async () => {
    const target = await echoServer();
    const proxy = await startProxy(target.address);
    const client = await dial(proxy);
    proxy.setDelay(10_000);
    proxy.setLossProbability(0.5);
    proxy.outbound.setThrottle(TokenBucket.forRate(8_000));
    proxy.heal();
    await client.closed;
    expect([proxy.outbound.faulty, proxy.inbound.faulty]).toEqual([false, false]);
    const fresh = await dial(proxy);
    fresh.socket.write("ok");
    await until(() => fresh.replies() === "OK", "the echo after heal");
  });

  test("delay holds chunks at least the delay and keeps their order", async () => {
    const target = await echoServer();
    const proxy = await startProxy(target.address);
    const client = await dial(proxy);
    proxy.setDelay(300, 50);
    const sentAt = Date.now();
    for (const letter of "abcdefgh") {
      client.socket.write(letter);
      await sleep(2);
    }
    await until(() => target.received().length === 8, "the delayed bytes");
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(300);
    expect(target.received()).toBe("abcdefgh");
  });

  test("loss delays a chunk by TCP's retransmission timeouts, doubling; no byte is lost, none reordered, nothing reset", async () => {
    const target = await echoServer();
    // Draws per chunk: jitter, then one per transmission until one gets through. The first chunk's
    // first two transmissions are lost; everything after gets through.
    const draws = [0.5, 0, 0];
    const proxy = await startProxy(target.address, () => draws.shift() ?? 0.99);
    const client = await dial(proxy);
    proxy.setLossProbability(0.5);
    const sentAt = Date.now();
    for (const word of ["first ", "second ", "third"]) {
      client.socket.write(word);
      await sleep(20);
    }
    await until(() => target.received().length === 18, "every byte");
    expect(target.received()).toBe("first second third");
    // Sent at 0, lost, resent at 200 ms, lost, resent at 600 ms: the later words waited behind it.
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(600);
    expect(proxy.stats).toMatchObject({ retransmissions: 2, connectionsReset: 0, bytesDropped: 0 });
    expect(client.socket.destroyed).toBe(false);
  });

  test("a chunk backing off when the loss is cleared arrives at its next retransmission", async () => {
    const target = await echoServer();
    const proxy = await startProxy(target.address);
    const client = await dial(proxy);
    proxy.setLossProbability(1);
    const sentAt = Date.now();
    client.socket.write("patient");
    await sleep(300); // lost at 0 and at 200 ms; the next retransmission is due at 600 ms
    expect(target.received()).toBe("");
    proxy.setLossProbability(0);
    await until(() => target.received() === "patient", "the retransmission");
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(600);
    expect(proxy.stats.connectionsReset).toBe(0);
  });

  test("retransmission timeouts start at 200 ms and double, capped at 120 s", () => {
    expect([0, 1, 2, 3, 4].map(retransmissionOffsetMs)).toEqual([0, 200, 600, 1_400, 3_000]);
    expect(retransmissionOffsetMs(11) - retransmissionOffsetMs(10)).toBe(120_000);
  });

  test("a throttled link delivers every byte, in order, no faster than its rate", async () => {
    const target = await echoServer();
    const proxy = await startProxy(target.address);
    const client = await dial(proxy);
    const bucket = TokenBucket.forRate(512_000); // 64 kB/s
    proxy.outbound.setThrottle(bucket);
    const payload = Buffer.alloc(64 * 1024, 0).map((_, index) => 97 + (index % 26));
    const sentAt = Date.now();
    client.socket.write(payload);
    await until(() => target.received().length === payload.length, "the whole payload");
    expect(target.received()).toBe(payload.toString());
    // Only the burst leaves at once; the rest is paced at 64 kB/s.
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(((payload.length - bucket.burstBytes - 1_500) / bucket.bytesPerSecond) * 1_000);
    expect(proxy.outbound.describe()).toBe("1->2: rate 512 kbit/s");
  });

  test("a target that is down closes the dialling connection", async () => {
    const target = await echoServer();
    const proxy = await FaultProxy.start({ source: 1, target: 2, targetAddress: "127.0.0.1:1" });
    cleanups.push(() => proxy.close());
    const client = await dial(proxy);
    await client.closed;
    expect(target.connections()).toBe(0);
  });
});
