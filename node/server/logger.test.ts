import { expect, it } from "vitest";
import { createJsonLogger } from "./logger.js";

it("writes one JSON object per line with time, level, node, msg and fields, above the minimum level", () => {
  const lines: string[] = [];
  const logger = createJsonLogger({ node: 3, levelMin: "info", write: (line) => lines.push(line) });
  logger.debug("hidden");
  logger.child({ component: "wal" }).warn("torn tail", { offset: 12, error: Object.assign(new Error("bad"), { code: "X" }) });
  expect(lines.length).toBe(1);
  expect(lines[0]!.endsWith("\n")).toBe(true);
  const record = JSON.parse(lines[0]!) as Record<string, unknown>;
  expect(typeof record.time === "string" && !Number.isNaN(Date.parse(record.time))).toBe(true);
  expect({ ...record, time: "T" }).toEqual({
    time: "T",
    level: "warn",
    node: 3,
    msg: "torn tail",
    component: "wal",
    offset: 12,
    error: { name: "Error", message: "bad", code: "X" },
  });
});
