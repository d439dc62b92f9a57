// The security model over real sockets, against a live 3-node cluster started with a secret:
// forged peer messages (an app claiming the leader's id, a timeoutNow), replayed handshakes and
// unauthenticated administrative requests are refused, and the cluster's data, leader and voters
// are unchanged afterwards. Membership changes that would leave fewer live, caught-up voters than
// a quorum are refused (etcd's --strict-reconfig-check).
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep } from "../../lib/deadline.js";
import { DEFAULT_ELECTION_TICKS, DEFAULT_TICK_MS } from "../../node/server/config/config.js";
import type { Message } from "../../node/raft/messages.js";
import { NodeConnection } from "../../node/client/node-connection.js";
import { encodeCommand } from "../../node/server/client-port/command-envelope.js";
import { encodeFrame } from "../../node/server/transport/frame-codec.js";
import { encodeMessage } from "../../node/server/transport/message-codec.js";
import { DialerHandshake, encodeProof } from "../../node/server/transport/peer-handshake.js";
import { connectPeerSocket } from "../../node/server/transport/testing/peer-socket.js";
import { logRecords, TestCluster, waitFor } from "./cluster-helpers.js";
import { parseHostPort } from "../../lib/host-port.js";

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await TestCluster.create({ size: 3 });
});
afterAll(async () => {
  await cluster?.destroy();
});

interface Roles {
  leader: number;
  /** The node the forgeries target. */
  target: number;
  /** The third node. */
  other: number;
  term: number;
}

async function roles(): Promise<Roles> {
  const leader = await cluster.waitForLeader();
  const [target, other] = [1, 2, 3].filter((id) => id !== leader) as [number, number];
  const status = await cluster.status(target);
  return { leader, target, other, term: status!.term };
}

/** An app from `from` that would commit put forged=<value> on `to`, were it believed. */
function forgedApp(from: number, to: number, term: number, lastIndex: number, value: string): Message {
  const data = encodeCommand({ op: { f: "put", key: "forged", value }, requestId: 1 });
  return {
    type: "app",
    from,
    to,
    term,
    logTerm: term,
    index: lastIndex,
    commit: lastIndex + 1,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    entries: [{ term, index: lastIndex + 1, type: "normal", data }],
    context: new Uint8Array(),
  };
}

function timeoutNow(from: number, to: number, term: number): Message {
  return {
    type: "timeoutNow",
    from,
    to,
    term,
    logTerm: 0,
    index: 0,
    commit: 0,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    entries: [],
    context: new Uint8Array(),
  };
}

const frameOf = (message: Message): Buffer => encodeFrame(encodeMessage(message));

/** Writes `bytes` on a new raw connection to the node's peer port; resolves when the node closes it. */
function sendRaw(address: string, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(parseHostPort(address));
    const timer = setTimeout(() => reject(new Error("the node kept a forged connection open for 10 s")), 10_000);
    socket.on("error", () => undefined);
    socket.resume();
    socket.once("connect", () => socket.write(bytes));
    socket.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function waitClosed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed ? resolve() : socket.once("close", () => resolve())));
}

/** Reasons the node logged for inbound peer connections it closed. */
function refusals(id: number): string[] {
  return logRecords(cluster.node(id).output)
    .filter((record) => record["msg"] === "transport: closing a bad inbound connection")
    .map((record) => String(record["reason"]));
}

/** Data, leader, term and voters are what they were, on every node. */
async function expectUnchanged(before: Roles): Promise<void> {
  for (const id of [1, 2, 3]) {
    const status = await cluster.status(id);
    expect(status, `node ${id} answers`).toBeDefined();
    expect({ leader: status!.leader, term: status!.term, voters: status!.voters }).toEqual({ leader: before.leader, term: before.term, voters: [1, 2, 3] });
  }
  expect(await cluster.get("forged")).toBeNull();
  expect(await cluster.get("k")).toBe("v1");
}

describe("peer port", () => {
  it("a dialer without the secret gets no message in: a forged app and timeoutNow claiming the leader change nothing", async () => {
    await cluster.put("k", "v1");
    const before = await roles();
    const lastIndex = (await cluster.status(before.target))!.lastIndex;
    const hello = new DialerHandshake(undefined, "raftlab", before.leader, before.target).helloFrame();
    const forgeries = [
      frameOf(forgedApp(before.leader, before.target, before.term, lastIndex, "no-secret")),
      frameOf(timeoutNow(before.leader, before.target, before.term)),
    ];
    // Straight after the hello, with no proof; then with a proof made without the secret.
    await sendRaw(cluster.node(before.target).peerAddress, Buffer.concat([encodeFrame(hello), ...forgeries]));
    await sendRaw(cluster.node(before.target).peerAddress, Buffer.concat([encodeFrame(hello), encodeFrame(encodeProof(Buffer.alloc(32))), ...forgeries]));
    await new Promise((resolve) => setTimeout(resolve, 500)); // an election would have started by now
    await expectUnchanged(before);
    expect(refusals(before.target)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^BAD_VERSION: handshake proof .*field magic/),
        expect.stringMatching(/claiming node \d+ does not match: the peer does not hold this cluster's secret/),
      ]),
    );
  });

  it("a recorded handshake replayed on a new connection is refused", async () => {
    const before = await roles();
    const address = cluster.node(before.target).peerAddress;
    const recorded = await connectPeerSocket({ address, clusterId: "raftlab", fromNodeId: before.other, toNodeId: before.target, secret: cluster.secret });
    recorded.socket.destroy();
    const lastIndex = (await cluster.status(before.target))!.lastIndex;
    const refusedBefore = refusals(before.target).length;
    await sendRaw(address, Buffer.concat([...recorded.sent, frameOf(forgedApp(before.other, before.target, before.term, lastIndex, "replayed"))]));
    await expectUnchanged(before);
    expect(refusals(before.target).slice(refusedBefore)).toEqual([expect.stringMatching(new RegExp(`claiming node ${before.other} does not match`))]);
  });

  it("an authenticated peer cannot speak for another node", async () => {
    const before = await roles();
    const address = cluster.node(before.target).peerAddress;
    const lastIndex = (await cluster.status(before.target))!.lastIndex;
    for (const forgery of [
      forgedApp(before.leader, before.target, before.term, lastIndex, "impersonated"),
      timeoutNow(before.leader, before.target, before.term),
    ]) {
      const { socket } = await connectPeerSocket({ address, clusterId: "raftlab", fromNodeId: before.other, toNodeId: before.target, secret: cluster.secret });
      socket.write(frameOf(forgery));
      await waitClosed(socket);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    await expectUnchanged(before);
    const claims = refusals(before.target).filter((reason) => reason.includes(`on a connection from node ${before.other}`));
    expect(claims).toHaveLength(2);
    expect(claims[0]).toMatch(
      new RegExp(`message from node ${before.leader} to node ${before.target} on a connection from node ${before.other} to node ${before.target}$`),
    );
  });
});

describe("client port", () => {
  it("membership changes and leadership transfers need the secret; ordinary operations do not", async () => {
    const before = await roles();
    const address = cluster.node(before.leader).clientAddress;
    const anonymous = new NodeConnection({ nodeId: before.leader, address, connectTimeoutMs: 2000 });
    const impostor = new NodeConnection({
      nodeId: before.leader,
      address,
      connectTimeoutMs: 2000,
      secret: Buffer.from("not-the-cluster-secret-0123456789abcdef"),
    });
    try {
      for (const body of [
        { type: "addMember" as const, nodeId: 7, peerAddress: "127.0.0.1:1", clientAddress: "127.0.0.1:2" },
        { type: "removeMember" as const, nodeId: before.other },
        { type: "transferLeader" as const, to: before.target },
      ]) {
        const response = await anonymous.request(body, { timeoutMs: 5000 });
        expect(response).toMatchObject({ ok: false, code: "UNAUTHENTICATED" });
        await expect(impostor.request(body, { timeoutMs: 5000 })).rejects.toThrow(
          /CONNECTION_FAILED: cannot authenticate with node \d+ .*UNAUTHENTICATED: the proof does not match this cluster's secret/,
        );
      }
      // Reads and writes stay open to whoever reaches the port (see the README's security model).
      expect(await anonymous.request({ type: "read", op: { f: "get", key: "k", value: null } }, { timeoutMs: 5000 })).toMatchObject({ ok: true, result: "v1" });
    } finally {
      anonymous.close();
      impostor.close();
    }
    await expectUnchanged(before);
  });

  it("refuses membership changes that would leave fewer live, caught-up voters than a quorum", async () => {
    const before = await roles();
    const add = (nodeId: number): Promise<unknown> =>
      cluster.request(before.leader, { type: "addMember", nodeId, peerAddress: "127.0.0.1:1", clientAddress: "127.0.0.1:2" });
    // The issue's attack: unreachable members 7, 8, 9. Two still leave a quorum of live voters.
    expect(await add(7)).toMatchObject({ ok: true, result: { voters: [1, 2, 3, 7] } });
    expect(await add(8)).toMatchObject({ ok: true, result: { voters: [1, 2, 3, 7, 8] } });
    expect(await add(9)).toMatchObject({
      ok: false,
      code: "UNAVAILABLE",
      message: expect.stringMatching(/^adding node 9 would leave 3 live, caught-up voters \(\d,\d,\d\) of 6, fewer than a quorum of 4/) as unknown,
    });
    await cluster.put("k", "v2"); // still a quorum: the cluster commits
    for (const nodeId of [8, 7]) {
      expect(await cluster.request(before.leader, { type: "removeMember", nodeId })).toMatchObject({ ok: true });
    }
    // With one voter down, removing another live one would leave 1 of 2.
    await cluster.kill(before.other);
    // The leader counts a follower live until it has heard nothing from it for two election
    // timeouts (RequestRouter #isHealthyFollower; this cluster runs the defaults). Asked sooner,
    // the answer raced the leader noticing the closed connection (seen once in CI).
    await sleep(2 * DEFAULT_ELECTION_TICKS * DEFAULT_TICK_MS + 100);
    expect(await cluster.request(before.leader, { type: "removeMember", nodeId: before.target })).toMatchObject({
      ok: false,
      code: "UNAVAILABLE",
      message: expect.stringMatching(new RegExp(`^removing node ${before.target} would leave 1 live, caught-up voters \\(${before.leader}\\) of 2`)) as unknown,
    });
    await cluster.start(before.other);
    await waitFor("every node back with voters 1,2,3", 15_000, async () => {
      const statuses = await Promise.all([1, 2, 3].map((id) => cluster.status(id)));
      return statuses.every((status) => status?.voters.join(",") === "1,2,3") ? true : undefined;
    });
    expect(await cluster.get("k")).toBe("v2");
  });
});
