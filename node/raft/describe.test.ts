import { describe, expect, test } from "vitest";
import { describeMessage, describeReady } from "./describe.js";
import { newMessage } from "./raft.js";
import { TestNetwork, bytes } from "./testing/test-network.js";

describe("describe", () => {
  test("messages have stable one-line text", () => {
    const app = newMessage("app", 2, {
      from: 1,
      term: 3,
      index: 4,
      logTerm: 2,
      commit: 4,
      entries: [{ term: 3, index: 5, type: "normal", data: bytes("x=1") }],
    });
    expect(describeMessage(app)).toMatchInlineSnapshot(`"1->2 app term=3 logTerm=2 index=4 commit=4 entries=[3/5 "x=1"]"`);
    const reject = newMessage("appResp", 1, { from: 2, term: 3, index: 4, reject: true, rejectHint: 2, hintTerm: 1 });
    expect(describeMessage(reject)).toMatchInlineSnapshot(`"2->1 appResp term=3 reject index=4 hint=2/1"`);
  });

  test("a Ready has stable multi-line text", () => {
    const net = new TestNetwork([1, 2]);
    net.node(1).campaign();
    expect(describeReady(net.node(1).ready())).toMatchInlineSnapshot(`
      "soft=candidate/leader=0
      hard=term=1,vote=1,commit=0
      msg 1->2 vote term=1 lastIndex=0 lastTerm=0
      mustSync"
    `);
  });
});
