// A real 3-node kv cluster: election, replication, reads, the client port's error answers,
// at-most-once sessions and leadership transfer.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeFrame, FrameDecoder } from "../../node/server/transport/frame-codec.js";
import { TestCluster, waitFor } from "./cluster-helpers.js";
import { parseHostPort } from "../../lib/host-port.js";

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.create({ size: 3 });
});

afterAll(async () => {
  await cluster?.destroy();
});

describe("a 3-node kv cluster", () => {
  it("elects one leader that every node knows", async () => {
    const leader = await cluster.waitForLeader();
    for (const id of [1, 2, 3]) {
      const status = await cluster.status(id);
      expect(status?.leader).toBe(leader);
      expect(status?.voters).toEqual([1, 2, 3]);
      expect(status?.plugin).toBe("kv");
    }
  });

  it("replicates puts and serves linearizable gets", async () => {
    for (let k = 0; k < 20; k++) {
      await cluster.put(`key-${k}`, `value-${k}`);
    }
    expect(await cluster.get("key-7")).toBe("value-7");
    expect(await cluster.get("absent")).toBe(null);
    const leader = await cluster.waitForLeader();
    const commit = (await cluster.status(leader))!.commit;
    await waitFor("every node to apply the puts", 10_000, async () => {
      const statuses = await Promise.all([1, 2, 3].map((id) => cluster.status(id)));
      return statuses.every((s) => s !== undefined && s.applied >= commit) ? true : undefined;
    });
  });

  it("answers NOT_LEADER with the leader's client address on a follower", async () => {
    const leader = await cluster.waitForLeader();
    const follower = [1, 2, 3].find((id) => id !== leader)!;
    const response = await cluster.request(follower, { type: "command", op: { f: "put", key: "k", value: "v" } });
    expect(response).toMatchObject({
      ok: false,
      code: "NOT_LEADER",
      leader: { nodeId: leader, clientAddress: cluster.node(leader).clientAddress },
    });
  });

  it("refuses bad requests with BAD_REQUEST naming the field", async () => {
    const leader = await cluster.waitForLeader();
    const unknownOp = await cluster.request(leader, { type: "command", op: { f: "explode", key: "k", value: null } });
    expect(unknownOp).toMatchObject({ ok: false, code: "BAD_REQUEST" });
    expect(!unknownOp.ok && unknownOp.message).toMatch(/^field op\.f: "explode" is not an operation of plugin kv/);
    const writeAsRead = await cluster.request(leader, { type: "read", op: { f: "put", key: "k", value: "v" } });
    expect(!writeAsRead.ok && writeAsRead.message).toMatch(/^field op\.f: "put" changes state/);
    const badArgument = await cluster.request(leader, { type: "command", op: { f: "put", key: "k", value: 42 } });
    expect(badArgument).toMatchObject({ ok: false, code: "BAD_REQUEST" });
  });

  it("closes only the connection that sends a bad frame, and answers bad JSON with BAD_REQUEST", async () => {
    const leader = await cluster.waitForLeader();
    const socket = net.connect(parseHostPort(cluster.node(leader).clientAddress));
    const decoder = new FrameDecoder();
    const answers: unknown[] = [];
    socket.on("data", (chunk) => answers.push(...decoder.push(chunk).map((f) => JSON.parse(Buffer.from(f).toString()))));
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.write(encodeFrame(Buffer.from("{oops")));
    await waitFor("the BAD_REQUEST answer", 5000, async () => (answers.length > 0 ? true : undefined));
    expect(answers[0]).toMatchObject({ id: -1, ok: false, code: "BAD_REQUEST" });
    const bad = encodeFrame(Buffer.from('{"id":1,"type":"status"}'));
    bad[5] = bad[5]! ^ 0xff; // break the checksum
    socket.write(bad);
    await closed;
    expect((await cluster.status(leader))?.nodeId).toBe(leader); // the node and other connections live on
  });

  it("applies a command retried with the same session seq once, and refuses an older seq", async () => {
    const op = { f: "append", key: "session-key", value: "x" };
    const unopened = await cluster.invoke({ type: "command", op, session: { clientId: "client-a", seq: 1 } });
    expect(unopened).toMatchObject({ ok: false, code: "SESSION_EXPIRED" });
    const opened = await cluster.invoke({ type: "openSession" });
    expect(opened).toMatchObject({ ok: true, result: expect.stringMatching(/^\d+$/) });
    const clientId = opened.ok && "result" in opened ? String(opened.result) : "";
    const session = { clientId, seq: 1 };
    const first = await cluster.invoke({ type: "command", op, session });
    const retry = await cluster.invoke({ type: "command", op, session });
    expect(first).toMatchObject({ ok: true, result: null });
    expect(retry).toMatchObject({ ok: true, result: null });
    expect(await cluster.get("session-key")).toBe("x");
    await cluster.invoke({ type: "command", op, session: { clientId, seq: 2 } });
    expect(await cluster.get("session-key")).toBe("xx");
    const stale = await cluster.invoke({ type: "command", op, session: { clientId, seq: 1 } });
    expect(stale).toMatchObject({ ok: false, code: "BAD_REQUEST" });
    expect(!stale.ok && stale.message).toMatch(/^stale seq/);
    expect(await cluster.get("session-key")).toBe("xx");
  });

  it("transfers the leadership to a chosen follower", async () => {
    const leader = await cluster.waitForLeader();
    const target = [1, 2, 3].find((id) => id !== leader)!;
    const response = await cluster.request(leader, { type: "transferLeader", to: target });
    expect(response).toEqual({ id: expect.any(Number), ok: true, result: { leader: target } });
    expect(await cluster.waitForLeader()).toBe(target);
    await cluster.put("after-transfer", "yes");
    expect(await cluster.get("after-transfer")).toBe("yes");
  });
});
