// Protocol edge cases of RaftClient against scripted fake nodes speaking the real frame codec.
// The end-to-end behaviour against real nodes is in test/integration/local-runtime.test.ts.
import { afterEach, describe, expect, test } from "vitest";
import type { ClientRequest, ClientResponse, NodeStatus } from "../protocol/client-protocol.js";
import { RaftClient } from "./raft-client.js";
import { FakeNodeServer, refusedAddress, type FakeHandler } from "./testing/fake-node-server.js";

const servers: FakeNodeServer[] = [];
const clients: RaftClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) {
    client.close();
  }
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function fakeNode(id: number, handler: FakeHandler): Promise<FakeNodeServer> {
  const server = await FakeNodeServer.start(id, handler);
  servers.push(server);
  return server;
}

function client(nodes: { id: number; address: string }[], options: { requestTimeoutMs?: number; sessions?: boolean } = {}): RaftClient {
  const raftClient = new RaftClient({
    nodes: nodes.map((node) => ({ id: node.id, clientAddress: node.address })),
    requestTimeoutMs: options.requestTimeoutMs ?? 2000,
    ...(options.sessions === undefined ? {} : { sessions: options.sessions }),
  });
  clients.push(raftClient);
  return raftClient;
}

/** Answers openSession with session id "17" (the index of its entry); every other request goes to `handler`. */
function withSessions(handler: FakeHandler, sessionId = "17"): FakeHandler {
  return (request, connection) =>
    request.type === "openSession" ? connection.reply({ id: request.id, ok: true, result: sessionId }) : handler(request, connection);
}

const put = { f: "put", key: "x", value: 1 };
const get = { f: "get", key: "x", value: null };

function ok(request: ClientRequest, result: ClientResponse extends infer R ? (R extends { result: infer V } ? V : never) : never): ClientResponse {
  return { id: request.id, ok: true, result };
}

function notLeader(request: ClientRequest, leader?: number): ClientResponse {
  return {
    id: request.id,
    ok: false,
    code: "NOT_LEADER",
    message: "not the leader",
    ...(leader === undefined ? {} : { leader: { nodeId: leader } }),
  };
}

describe("leader discovery", () => {
  test("follows a NOT_LEADER hint straight to the leader and remembers it", async () => {
    const follower = await fakeNode(1, (request, connection) => connection.reply(notLeader(request, 3)));
    const bystander = await fakeNode(2, (request, connection) => connection.reply(notLeader(request, 3)));
    const leader = await fakeNode(3, (request, connection) => connection.reply(ok(request, "done")));
    const raftClient = client([follower, bystander, leader], { sessions: false });

    expect(await raftClient.invoke(put, { readOnly: false })).toEqual({ type: "ok", value: "done", node: 3 });
    expect(await raftClient.invoke(get, { readOnly: true })).toEqual({ type: "ok", value: "done", node: 3 });
    expect(follower.requests.map((request) => request.type)).toEqual(["command"]);
    expect(bystander.requests).toEqual([]);
    expect(leader.requests.map((request) => request.type)).toEqual(["command", "read"]);
  });

  test("learns a leader's client address from a hint naming a node it did not know", async () => {
    const newLeader = await fakeNode(4, (request, connection) => connection.reply(ok(request, "from-4")));
    const follower = await fakeNode(1, (request, connection) =>
      connection.reply({ id: request.id, ok: false, code: "NOT_LEADER", message: "no", leader: { nodeId: 4, clientAddress: newLeader.address } }),
    );
    const raftClient = client([follower]);
    expect(await raftClient.invoke(get, { readOnly: true })).toEqual({ type: "ok", value: "from-4", node: 4 });
    expect(raftClient.nodeIds).toEqual([1, 4]);
  });

  test("rotates past a refused connection to a live leader", async () => {
    const leader = await fakeNode(2, (request, connection) => connection.reply(ok(request, 7)));
    const raftClient = client([{ id: 1, address: await refusedAddress() }, leader], { sessions: false });
    expect(await raftClient.invoke(put, { readOnly: false })).toEqual({ type: "ok", value: 7, node: 2 });
    expect(leader.requestsOfType("command")).toHaveLength(1);
  });

  test("ends in fail (nothing applied) when no node accepts before the deadline", async () => {
    const follower = await fakeNode(1, (request, connection) => connection.reply(notLeader(request)));
    const raftClient = client([follower, { id: 2, address: await refusedAddress() }], { requestTimeoutMs: 600 });
    const outcome = await raftClient.invoke(put, { readOnly: false });
    expect(outcome.type).toBe("fail");
    expect(outcome.type === "fail" && outcome.error.code).toBe("NO_LEADER");
    expect(follower.requests.length).toBeGreaterThan(1);
  });

  test("findLeader picks the leader with the highest term", async () => {
    const status =
      (nodeId: number, role: NodeStatus["role"], term: number): FakeHandler =>
      (request, connection) =>
        connection.reply({
          id: request.id,
          ok: true,
          status: { nodeId, role, term, leader: 0, commit: 0, applied: 0, lastIndex: 0, voters: [1, 2, 3], plugin: "kv" },
        });
    const stale = await fakeNode(1, status(1, "leader", 2));
    const current = await fakeNode(2, status(2, "leader", 5));
    const follower = await fakeNode(3, status(3, "follower", 5));
    const raftClient = client([stale, current, follower]);
    expect(await raftClient.findLeader()).toBe(2);
    expect(raftClient.leaderGuess).toBe(2);
  });
});

describe("indeterminate outcomes", () => {
  test("a command without a session that times out is info and is not re-sent", async () => {
    const silent = await fakeNode(1, () => undefined);
    const other = await fakeNode(2, (request, connection) => connection.reply(ok(request, 1)));
    const raftClient = client([silent, other], { requestTimeoutMs: 300, sessions: false });
    const outcome = await raftClient.invoke(put, { readOnly: false });
    expect(outcome).toMatchObject({ type: "info", node: 1, error: { code: "REQUEST_TIMEOUT" } });
    expect(silent.requests).toHaveLength(1);
    expect(other.requests).toEqual([]);
  });

  test("a connection dropped after the write is info for a command without a session", async () => {
    const dropper = await fakeNode(1, (_request, connection) => connection.destroy());
    const other = await fakeNode(2, (request, connection) => connection.reply(ok(request, 1)));
    const raftClient = client([dropper, other], { sessions: false });
    const outcome = await raftClient.invoke(put, { readOnly: false });
    expect(outcome).toMatchObject({ type: "info", node: 1, error: { code: "CONNECTION_LOST" } });
    expect(dropper.requests).toHaveLength(1);
    expect(other.requests).toEqual([]);
  });

  test.each(["TIMEOUT", "LEADERSHIP_LOST"] as const)("a %s reply to a command without a session is info", async (code) => {
    const leader = await fakeNode(1, (request, connection) => connection.reply({ id: request.id, ok: false, code, message: "unsure" }));
    const raftClient = client([leader], { sessions: false });
    expect(await raftClient.invoke(put, { readOnly: false })).toMatchObject({ type: "info", node: 1, error: { code } });
    expect(leader.requests).toHaveLength(1);
  });

  test("BAD_REQUEST is fail and is not retried", async () => {
    const leader = await fakeNode(1, (request, connection) =>
      connection.reply({ id: request.id, ok: false, code: "BAD_REQUEST", message: "unknown operation" }),
    );
    const raftClient = client([leader]);
    expect(await raftClient.invoke(put, { readOnly: false })).toMatchObject({ type: "fail", error: { code: "BAD_REQUEST" } });
    expect(leader.requests).toHaveLength(1);
  });

  test("after an indeterminate attempt, a BAD_REQUEST cannot turn the outcome into fail either", async () => {
    const dropper = await fakeNode(
      1,
      withSessions((_request, connection) => connection.destroy()),
    );
    const refuser = await fakeNode(2, (request, connection) => connection.reply({ id: request.id, ok: false, code: "BAD_REQUEST", message: "stale seq" }));
    const raftClient = client([dropper, refuser]);
    expect(await raftClient.invoke(put, { readOnly: false })).toMatchObject({ type: "info", node: 2, error: { code: "BAD_REQUEST" } });
    expect(refuser.requests).toHaveLength(1);
  });

  test("after an indeterminate attempt, later NOT_LEADER replies cannot turn the outcome into fail", async () => {
    const dropper = await fakeNode(
      1,
      withSessions((_request, connection) => connection.destroy()),
    );
    const follower = await fakeNode(2, (request, connection) => connection.reply(notLeader(request)));
    const raftClient = client([dropper, follower], { requestTimeoutMs: 300 });
    const outcome = await raftClient.invoke(put, { readOnly: false });
    expect(outcome.type).toBe("info");
  });
});

describe("safe retries", () => {
  test("a session command is re-sent with the same seq after a dropped connection", async () => {
    let attempts = 0;
    const leader = await fakeNode(
      1,
      withSessions((request, connection) => {
        attempts += 1;
        if (attempts === 1) {
          connection.destroy();
        } else {
          connection.reply(ok(request, "applied-once"));
        }
      }),
    );
    const raftClient = client([leader]);
    expect(await raftClient.invoke(put, { readOnly: false })).toEqual({ type: "ok", value: "applied-once", node: 1 });
    expect(await raftClient.invoke(put, { readOnly: false })).toMatchObject({ type: "ok" });
    const sessions = leader.requestsOfType("command").map((request) => request.session);
    expect(sessions).toEqual([
      { clientId: "17", seq: 1 },
      { clientId: "17", seq: 1 },
      { clientId: "17", seq: 2 },
    ]);
    expect(leader.requestsOfType("openSession")).toHaveLength(1);
  });

  test("SESSION_EXPIRED ends the command as fail and the next command opens a new session", async () => {
    let sessionsOpened = 0;
    const leader = await fakeNode(1, (request, connection) => {
      if (request.type === "openSession") {
        sessionsOpened += 1;
        connection.reply({ id: request.id, ok: true, result: String(100 + sessionsOpened) });
      } else if (request.type === "command" && request.session?.clientId === "101") {
        connection.reply({ id: request.id, ok: false, code: "SESSION_EXPIRED", message: "expired" });
      } else {
        connection.reply(ok(request, "applied"));
      }
    });
    const raftClient = client([leader]);
    expect(await raftClient.invoke(put, { readOnly: false })).toMatchObject({ type: "fail", error: { code: "SESSION_EXPIRED" } });
    expect(await raftClient.invoke(put, { readOnly: false })).toMatchObject({ type: "ok", value: "applied" });
    expect(raftClient.sessionId).toBe("102");
    expect(leader.requestsOfType("command").map((request) => request.session)).toEqual([
      { clientId: "101", seq: 1 },
      { clientId: "102", seq: 1 },
    ]);
  });

  test("a session that cannot be opened fails the command without sending it", async () => {
    const follower = await fakeNode(1, (request, connection) => connection.reply(notLeader(request)));
    const raftClient = client([follower], { requestTimeoutMs: 300 });
    expect(await raftClient.invoke(put, { readOnly: false })).toMatchObject({ type: "fail" });
    expect(follower.requestsOfType("command")).toEqual([]);
  });

  test("a session command that keeps timing out ends as info at the deadline", async () => {
    const silent = await fakeNode(
      1,
      withSessions(() => undefined),
    );
    const raftClient = client([silent], { requestTimeoutMs: 400 });
    expect(await raftClient.invoke(put, { readOnly: false })).toMatchObject({ type: "info" });
    expect(silent.requests.length).toBeGreaterThan(1);
  });

  test("session commands from one client go out one at a time, in seq order", async () => {
    let open = 0;
    let maxOpen = 0;
    const leader = await fakeNode(
      1,
      withSessions((request, connection) => {
        open += 1;
        maxOpen = Math.max(maxOpen, open);
        setTimeout(() => {
          open -= 1;
          connection.reply(ok(request, null));
        }, 20);
      }),
    );
    const raftClient = client([leader]);
    const outcomes = await Promise.all([1, 2, 3].map(() => raftClient.invoke(put, { readOnly: false })));
    expect(outcomes.map((outcome) => outcome.type)).toEqual(["ok", "ok", "ok"]);
    expect(maxOpen).toBe(1);
    expect(leader.requestsOfType("command").map((request) => request.session?.seq)).toEqual([1, 2, 3]);
  });

  test("a read that times out on one node is retried on another", async () => {
    const silent = await fakeNode(1, () => undefined);
    const leader = await fakeNode(2, (request, connection) => connection.reply(ok(request, 42)));
    const raftClient = new RaftClient({
      nodes: [silent, leader].map((node) => ({ id: node.id, clientAddress: node.address })),
      requestTimeoutMs: 2000,
      attemptTimeoutMs: 100,
    });
    clients.push(raftClient);
    expect(await raftClient.invoke(get, { readOnly: true })).toEqual({ type: "ok", value: 42, node: 2 });
  });

  test("pipelined requests on one connection are matched by id, whatever the reply order", async () => {
    const held: { request: ClientRequest; reply: (response: ClientResponse) => void }[] = [];
    const leader = await fakeNode(1, (request, connection) => {
      held.push({ request, reply: (response) => connection.reply(response) });
      if (held.length === 3) {
        for (const entry of held.reverse()) {
          entry.reply(ok(entry.request, entry.request.type === "read" ? (entry.request.op.key ?? null) : null));
        }
      }
    });
    const raftClient = client([leader]);
    const outcomes = await Promise.all(["a", "b", "c"].map((key) => raftClient.invoke({ f: "get", key, value: null }, { readOnly: true })));
    expect(outcomes.map((outcome) => outcome.type === "ok" && outcome.value)).toEqual(["a", "b", "c"]);
  });

  test("an aborted invoke that sent nothing is fail ABORTED", async () => {
    const leader = await fakeNode(1, (request, connection) => connection.reply(ok(request, 1)));
    const raftClient = client([leader]);
    const outcome = await raftClient.invoke(put, { readOnly: false, signal: AbortSignal.abort() });
    expect(outcome).toMatchObject({ type: "fail", error: { code: "ABORTED" } });
    expect(leader.requests).toEqual([]);
  });
});
