// Placeholder replaced in the next step.
import type { Plugin } from "../../plugins/api.js";
import type { ParsedHistory } from "../history/parse.js";
import type { CheckResult } from "./linearizable.js";

export interface ReportInput {
  file: string;
  plugin: Plugin;
  history: ParsedHistory;
  result: CheckResult;
}

export function renderReportHtml(input: ReportInput): string {
  return `<!doctype html><title>${input.file}</title><p>${input.result.verdict}</p>`;
}
