import { describe, expect, test } from "vitest";
import { InvariantError } from "../lib/assert.js";
import type { ClientEvent, HistoryEvent } from "./event.js";
import { outcomeOf, pairOperations } from "./operation-pairs.js";

let index = 0;
const event = (process: number, type: ClientEvent["type"], f = "put"): ClientEvent => ({
  process,
  type,
  f,
  key: "k",
  value: 1,
  time: index * 10,
  index: index++,
});

describe("pairOperations", () => {
  test("pairs in invoke order with positions, skips the nemesis, leaves open calls open", () => {
    index = 0;
    const events: HistoryEvent[] = [
      event(1, "invoke"),
      event(2, "invoke"),
      { process: "nemesis", type: "invoke", f: "kill", value: null, time: 25, index: index++ },
      event(2, "fail"),
      event(1, "ok"),
      event(3, "invoke"),
      event(4, "invoke"),
      event(4, "info"),
    ];
    const pairs = pairOperations(events);
    expect(pairs.map((pair) => [pair.invoke.process, pair.invokeIndex, pair.completion?.type, pair.completionIndex])).toEqual([
      [1, 0, "ok", 4],
      [2, 1, "fail", 3],
      [3, 5, undefined, undefined],
      [4, 6, "info", 7],
    ]);
    expect(pairs.map(outcomeOf)).toEqual(["ok", "fail", "info", "info"]);
  });

  test("a malformed history is a programmer error naming the event", () => {
    index = 0;
    expect(() => pairOperations([event(1, "invoke"), event(1, "invoke")])).toThrow(
      new InvariantError("history event 1: process 1 invokes with an operation open"),
    );
    index = 0;
    expect(() => pairOperations([event(1, "ok")])).toThrow(new InvariantError("history event 0: ok of process 1 has no open call"));
  });
});
