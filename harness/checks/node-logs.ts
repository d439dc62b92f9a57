// Scans the nodes' JSON-lines logs for trouble: records at level error or fatal, and lines that are
// not JSON but look like a crash (an uncaught exception, a failed assertion, a panic). A node that
// logs an error or crashes in a run is a finding even when the history is linearizable.
import { createReadStream } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { CheckReport } from "./check-report.js";

export interface NodeLogFinding {
  file: string;
  /** 1-based line number. */
  line: number;
  kind: "error" | "fatal" | "crash";
  /** The record's `msg` for a JSON line, else the line itself (cut short). */
  message: string;
  /** The whole line (cut short). */
  text: string;
}

export interface NodeLogsReport extends CheckReport {
  files: number;
  lines: number;
  counts: { error: number; fatal: number; crash: number };
  /** The first findings (at most 50). */
  findings: NodeLogFinding[];
}

const findingsShownMax = 50;
const crashPattern = /AssertionError|assertion failed|invariant|panic|Uncaught|FATAL ERROR|^\s*at .+:\d+:\d+\)?$|^[A-Za-z]*Error: /;
const textLengthMax = 500;

/** Scans every `node-*.log` in `logDirectory`. */
export async function checkNodeLogs(logDirectory: string): Promise<NodeLogsReport> {
  const names = (await readdir(logDirectory)).filter((name) => /^node-.+\.log$/.test(name)).sort();
  const report: NodeLogsReport = { valid: true, files: names.length, lines: 0, counts: { error: 0, fatal: 0, crash: 0 }, findings: [] };
  for (const name of names) {
    const lines = createInterface({ input: createReadStream(join(logDirectory, name), "utf8"), crlfDelay: Infinity });
    let lineNumber = 0;
    for await (const line of lines) {
      lineNumber += 1;
      report.lines += 1;
      const finding = classify(line);
      if (finding === undefined) {
        continue;
      }
      report.counts[finding.kind] += 1;
      // A stack trace is many lines: count them, but show only its first line.
      const continuesTrace = finding.kind === "crash" && /^\s*at /.test(line);
      if (report.findings.length < findingsShownMax && !continuesTrace) {
        report.findings.push({
          file: name,
          line: lineNumber,
          kind: finding.kind,
          message: finding.message.slice(0, textLengthMax),
          text: line.slice(0, textLengthMax),
        });
      }
    }
  }
  if (report.counts.error + report.counts.fatal + report.counts.crash > 0) {
    report.valid = false;
  }
  return report;
}

function classify(line: string): Pick<NodeLogFinding, "kind" | "message"> | undefined {
  if (line.trim() === "") {
    return undefined;
  }
  if (line.startsWith("{")) {
    try {
      const record = JSON.parse(line) as { level?: unknown; msg?: unknown; error?: { message?: unknown } };
      if (record.level === "error" || record.level === "fatal") {
        const detail = typeof record.error?.message === "string" ? `: ${record.error.message}` : "";
        return { kind: record.level, message: `${typeof record.msg === "string" ? record.msg : line}${detail}` };
      }
      return undefined;
    } catch {
      // Not JSON after all (a line cut short by kill -9): judge it as text.
    }
  }
  return crashPattern.test(line) ? { kind: "crash", message: line } : undefined;
}
