import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseHistory } from "./parse.js";
import { HistoryWriter } from "./writer.js";

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "raftlab-history-writer-"));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("HistoryWriter", () => {
  it("writes JSON lines the history parser accepts, with index = line number and Jepsen's field order", async () => {
    const path = join(directory, "history.jsonl");
    const writer = await HistoryWriter.open(path);
    writer.append({ process: 0, type: "invoke", f: "put", key: "1", value: "v1" });
    writer.append({ process: "nemesis", type: "invoke", f: "partition-halves", value: null });
    writer.append({ process: 1, type: "invoke", f: "get", key: "1", value: null });
    writer.append({ process: 0, type: "ok", f: "put", key: "1", value: null, node: "2" });
    writer.append({ process: "nemesis", type: "info", f: "partition-halves", value: { grudge: { "1": [2, 3] } } });
    writer.append({ process: 1, type: "info", f: "get", key: "1", value: null, error: "REQUEST_TIMEOUT: no answer", node: "1" });
    await writer.close();

    const text = await readFile(path, "utf8");
    const lines = text.trimEnd().split("\n");
    expect(lines).toHaveLength(6);
    expect(lines[3]).toMatch(/^\{"index":3,"time":\d+,"type":"ok","process":0,"f":"put","key":"1","value":null,"node":"2"\}$/);
    const parsed = parseHistory(text, path);
    expect(parsed.events).toEqual(writer.events);
    parsed.events.forEach((event, index) => {
      expect(event.index).toBe(index);
      expect(event.time).toBeGreaterThanOrEqual(parsed.events[index - 1]?.time ?? 0);
      expect(Number.isInteger(event.time)).toBe(true);
    });
  });

  it("makes appended lines durable on flush, before close", async () => {
    const path = join(directory, "history.jsonl");
    const writer = await HistoryWriter.open(path, { flushIntervalMs: 60_000 });
    for (let process = 0; process < 1_000; process += 1) {
      writer.append({ process, type: "invoke", f: "get", key: "0", value: null });
    }
    await writer.flush();
    expect((await readFile(path, "utf8")).split("\n")).toHaveLength(1_001);
    await writer.close();
    await writer.close();
    expect(() => writer.append({ process: 0, type: "ok", f: "get", key: "0", value: null })).toThrow(/after close/);
  });

  it("writes large histories in order across buffer-triggered writes", async () => {
    const path = join(directory, "history.jsonl");
    const writer = await HistoryWriter.open(path, { bufferBytesMax: 1_024 });
    for (let process = 0; process < 5_000; process += 1) {
      writer.append({ process, type: "invoke", f: "put", key: "0", value: `v${process}` });
      writer.append({ process, type: "ok", f: "put", key: "0", value: null });
    }
    await writer.close();
    const parsed = parseHistory(await readFile(path, "utf8"), path);
    expect(parsed.events.map((event) => event.index)).toEqual(Array.from({ length: 10_000 }, (_, index) => index));
  });
});
