// Stable one-line descriptions of operations for checker reports, shared by the built-in plugins:
// `put k "12" -> null`, `read -> 7`, `cas k ["3","4"] -> ?` (? = unknown outcome).
import type { Operation, Outcome } from "./api.js";

export function describeOperationLine(input: Operation, outcome: Outcome): string {
  const key = input.key === undefined || input.key === null ? "" : ` ${JSON.stringify(input.key)}`;
  const argument = input.value === null || input.value === undefined ? "" : ` ${JSON.stringify(input.value)}`;
  const result = outcome.known ? JSON.stringify(outcome.value) : "?";
  return `${input.f}${key}${argument} -> ${result}`;
}
