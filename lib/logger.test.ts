import { describe, expect, test } from "vitest";
import { isLogLevel, silentLogger } from "./logger.js";
import { RecordingLogger } from "./testing/recording-logger.js";

describe("logger", () => {
  test("isLogLevel knows the four levels only", () => {
    expect(["debug", "info", "warn", "error"].every(isLogLevel)).toBe(true);
    expect(isLogLevel("fatal")).toBe(false);
    expect(isLogLevel("toString")).toBe(false);
  });

  test("silentLogger's children are silent too", () => {
    expect(silentLogger.child({ component: "x" })).toBe(silentLogger);
  });

  test("RecordingLogger children add their fields to the shared records; find filters by level", () => {
    const logger = new RecordingLogger(2);
    logger.debug("first");
    logger.child({ component: "wal" }).child({ segment: 3 }).warn("torn tail", { offset: 12 });
    logger.error("disk full");
    expect(logger.dropped).toBe(1);
    expect(logger.records).toEqual([
      { level: "warn", message: "torn tail", fields: { component: "wal", segment: 3, offset: 12 } },
      { level: "error", message: "disk full", fields: {} },
    ]);
    expect(logger.find("error").map((record) => record.message)).toEqual(["disk full"]);
    expect(logger.find("info", /torn/).map((record) => record.message)).toEqual(["torn tail"]);
  });
});
