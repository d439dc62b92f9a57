import net from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { FaultProxy } from "./fault-proxy.js";

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

async function startProxy(targetAddress: string): Promise<FaultProxy> {
  const proxy = await FaultProxy.start({ source: 1, target: 2, targetAddress });
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
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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

  test("loss probability 1 resets the connection on the first chunk", async () => {
    const target = await echoServer();
    const proxy = await startProxy(target.address);
    const client = await dial(proxy);
    proxy.setLossProbability(1);
    client.socket.write("doomed");
    await client.closed;
    expect(proxy.stats.connectionsReset).toBe(1);
    expect(target.received()).toBe("");
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
