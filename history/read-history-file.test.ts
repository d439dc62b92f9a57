// readHistoryFile reads in 1 MiB chunks: lines cut by a chunk's end, a line longer than a chunk,
// blank lines and a last line without a newline must read exactly as parseHistory reads the text.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { HistoryError } from "./history-error.js";
import { parseHistory, readHistoryFile } from "./parse.js";

const chunkBytes = 1 << 20;

function historyText(operationCount: number, longValueAt: number, longValueBytes: number): string {
  const lines: string[] = [];
  for (let operation = 0; operation < operationCount; operation += 1) {
    const value = operation === longValueAt ? "é".repeat(longValueBytes / 2) : `v${operation}`;
    lines.push(JSON.stringify({ index: 2 * operation, time: operation, process: operation % 7, type: "invoke", f: "put", key: `k${operation % 3}`, value }));
    lines.push(
      JSON.stringify({ index: 2 * operation + 1, time: operation, process: operation % 7, type: "ok", f: "put", key: `k${operation % 3}`, value: null }),
    );
    if (operation % 1000 === 0) {
      lines.push("", "  \r");
    }
  }
  return lines.join("\n");
}

async function fileOf(content: string | Buffer): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), "raftlab-read-")), "history.jsonl");
  await writeFile(path, content);
  return path;
}

describe("readHistoryFile", () => {
  test("reads a file of several chunks, with a line longer than a chunk, as parseHistory reads its text", async () => {
    // Multi-byte characters in the long line, so a chunk can end inside one.
    const text = historyText(30_000, 12_000, 3 * chunkBytes);
    expect(Buffer.byteLength(text)).toBeGreaterThan(4 * chunkBytes);
    const fromFile = await readHistoryFile(await fileOf(text));
    const fromText = parseHistory(text, "history.jsonl");
    expect(fromFile.events).toEqual(fromText.events);
    expect(fromFile.lines).toEqual(fromText.lines);
    expect(fromFile.events).toHaveLength(60_000);
  });

  test("names the line of invalid UTF-8 in a later chunk", async () => {
    const text = historyText(20_000, -1, 0);
    const lineCount = text.split("\n").length;
    const bad = Buffer.concat([Buffer.from(text + "\n"), Buffer.from([0x7b, 0xff, 0x7d, 0x0a])]);
    const path = await fileOf(bad);
    const error = await readHistoryFile(path).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(HistoryError);
    expect((error as HistoryError).code).toBe("HISTORY_BAD_ENCODING");
    expect((error as HistoryError).line).toBe(lineCount + 1);
  });

  test("an unreadable path is HISTORY_UNREADABLE", async () => {
    const error = await readHistoryFile(join(tmpdir(), "raftlab-no-such-dir", "h.jsonl")).catch((thrown: unknown) => thrown);
    expect((error as HistoryError).code).toBe("HISTORY_UNREADABLE");
  });
});
