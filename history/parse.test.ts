import { describe, expect, test } from "vitest";
import { HistoryError } from "./history-error.js";
import { historyNestingMax } from "./event.js";
import { decodeUtf8, parseHistory } from "./parse.js";

const lines = (...events: object[]): string => events.map((event) => JSON.stringify(event)).join("\n") + "\n";
const invoke = (index: number, process: number, f = "get", value: unknown = null): object => ({
  index,
  time: index * 10,
  process,
  type: "invoke",
  f,
  key: "k",
  value,
});
const complete = (index: number, process: number, type: string, f = "get", value: unknown = null): object => ({
  index,
  time: index * 10,
  process,
  type,
  f,
  key: "k",
  value,
});

function parseError(text: string): HistoryError {
  try {
    parseHistory(text, "h.jsonl");
  } catch (error) {
    if (error instanceof HistoryError) {
      return error;
    }
    throw error;
  }
  throw new Error("expected a HistoryError");
}

describe("parseHistory", () => {
  test("keeps client and nemesis events in file order with their line numbers", () => {
    const text =
      lines(invoke(0, 1), { index: 1, time: 10, process: "nemesis", type: "info", f: "partition", value: ["n1"] }) +
      "\n" +
      lines(complete(2, 1, "ok", "get", "v"));
    const history = parseHistory(text, "h.jsonl");
    expect(history.events.map((event) => [event.process, event.type])).toEqual([
      [1, "invoke"],
      ["nemesis", "info"],
      [1, "ok"],
    ]);
    expect(history.lines).toEqual([1, 2, 4]);
  });

  test("keeps the fields of the format, with error and node, and drops others", () => {
    const known = { index: 0, time: 5, process: 1, type: "invoke", f: "get", key: "k", value: null, node: "n1" };
    const withOther = { index: 1, time: 6, process: 1, type: "info", f: "get", key: "k", value: null, error: "timeout", trace: [1, 2] };
    const { events } = parseHistory(lines(known, withOther), "h.jsonl");
    expect(events).toStrictEqual([known, { index: 1, time: 6, process: 1, type: "info", f: "get", key: "k", value: null, error: "timeout" }]);
    expect(() => parseHistory(lines({ ...known, error: 3 }), "h.jsonl")).toThrow(/h\.jsonl:1: field "error": expected a string, got 3/);
    expect(() => parseHistory(lines({ ...known, node: 3, trace: 1 }), "h.jsonl")).toThrow(/h\.jsonl:1: field "node": expected a string, got 3/);
  });

  test("bad JSON names the file and line", () => {
    const error = parseError(lines(invoke(0, 1)) + "{not json\n");
    expect(error.code).toBe("HISTORY_BAD_JSON");
    expect(error.line).toBe(2);
    expect(error.message).toMatch(/^h\.jsonl:2: not valid JSON/);
  });

  test.each([
    ["process", { ...invoke(0, 1), process: "p1" }],
    ["type", { ...invoke(0, 1), type: "done" }],
    ["time", { ...invoke(0, 1), time: -1 }],
    ["time", { ...invoke(0, 1), time: undefined }],
    ["index", { ...invoke(0, 1), index: 1.5 }],
    ["f", { ...invoke(0, 1), f: 3 }],
    ["key", { ...invoke(0, 1), key: 7 }],
    ["value", { ...invoke(0, 1), value: undefined }],
  ])("a missing or mistyped %s is named", (field, event) => {
    const error = parseError(lines(event));
    expect(error.code).toBe("HISTORY_BAD_FIELD");
    expect(error.field).toBe(field);
    expect(error.message).toContain(`h.jsonl:1: field "${field}"`);
  });

  test("time must not decrease", () => {
    const error = parseError(lines(invoke(5, 1), invoke(3, 2)));
    expect(error.code).toBe("HISTORY_TIME_DECREASING");
    expect(error.line).toBe(2);
  });

  test("a completion needs an open call by its process", () => {
    const error = parseError(lines(invoke(0, 1), complete(1, 2, "ok")));
    expect(error.code).toBe("HISTORY_UNMATCHED_COMPLETION");
    expect(error.line).toBe(2);
    expect(error.field).toBe("process");
  });

  test("a completion must name the invoked operation", () => {
    const error = parseError(lines(invoke(0, 1, "get"), complete(1, 1, "ok", "put")));
    expect(error.field).toBe("f");
  });

  test("a process may not invoke while its call is open", () => {
    const error = parseError(lines(invoke(0, 1), invoke(1, 1)));
    expect(error.code).toBe("HISTORY_OVERLAPPING_INVOKE");
    expect(error.line).toBe(2);
  });

  test("a process may not invoke after its info unless allowed", () => {
    const text = lines(invoke(0, 1), complete(1, 1, "info"), invoke(2, 1), complete(3, 1, "ok", "get", "v"));
    const error = parseError(text);
    expect(error.code).toBe("HISTORY_INVOKE_AFTER_INFO");
    expect(error.line).toBe(3);
    expect(parseHistory(text, "h.jsonl", { allowInvokeAfterInfo: true }).invokesAfterInfo).toBe(1);
  });

  test("a call left open at the end is accepted (the checker treats it as info)", () => {
    expect(parseHistory(lines(invoke(0, 1)), "h.jsonl").events).toHaveLength(1);
  });
});

describe("decodeUtf8 and nesting", () => {
  test("refuses invalid UTF-8 naming the line and byte, after valid multi-byte characters", () => {
    const good = Buffer.from('{"a":"é€😀"}\n', "utf8");
    const bad = Buffer.concat([Buffer.from('{"a":"é', "utf8"), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n', "utf8")]);
    expect(decodeUtf8(good, "h.jsonl")).toBe('{"a":"é€😀"}\n');
    expect(() => decodeUtf8(Buffer.concat([good, bad]), "h.jsonl")).toThrow(
      "h.jsonl:2: not valid UTF-8 (byte 0xc3 at byte 9 of the line); write strings as UTF-8 or \\u escapes",
    );
  });

  test("refuses a value nested deeper than the limit, naming the field", () => {
    const nested = (depth: number): string => `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const line = (value: string): string => `{"index":0,"time":0,"process":0,"type":"invoke","f":"put","key":"k","value":${value}}\n`;
    expect(parseHistory(line(nested(historyNestingMax)), "h.jsonl").events).toHaveLength(1);
    expect(() => parseHistory(line(nested(historyNestingMax + 1)), "h.jsonl")).toThrow(
      `h.jsonl:1: field "value": nested more than ${historyNestingMax} levels deep`,
    );
  });
});
