// Turns zod issues into short messages that say what was expected and, for closed sets, list the
// known values: `unknown fault "partiton"; known: partition-halves, ...`.
import type { z } from "zod";

export type FieldPath = readonly (string | number)[];

export interface ExplainedIssue {
  path: FieldPath;
  message: string;
}

/** "nemesis.faults[2].loss" */
export function formatFieldPath(path: FieldPath): string {
  let text = "";
  for (const segment of path) {
    text += typeof segment === "number" ? `[${segment}]` : text === "" ? segment : `.${segment}`;
  }
  return text;
}

function describeValue(value: unknown): string {
  if (value === null) {
    return "null";
  }
  if (Array.isArray(value)) {
    return "a list";
  }
  if (typeof value === "object") {
    return "a map";
  }
  return JSON.stringify(value) ?? String(value);
}

/** What each enum field is called in messages ("unknown runtime ..."), by the field's name. */
const enumNouns: Record<string, string> = {
  runtime: "runtime",
  unsafe: "unsafe behaviour",
  distribution: "key distribution",
};

const typeNames: Record<string, string> = {
  int: "an integer",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  array: "a list",
  object: "a map",
  record: "a map",
};

function boundMessage(issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall): string {
  const isTooBig = issue.code === "too_big";
  const bound = isTooBig ? issue.maximum : issue.minimum;
  const inclusive = issue.inclusive !== false;
  const comparison = isTooBig ? (inclusive ? "at most" : "less than") : inclusive ? "at least" : "greater than";
  const what = issue.origin === "array" ? "items" : issue.origin === "string" ? "characters" : "";
  const got = issue.origin === "array" || issue.origin === "string" ? "" : `, got ${describeValue(issue.input)}`;
  return `must be ${comparison} ${String(bound)}${what === "" ? "" : ` ${what}`}${got}`;
}

/**
 * Explains one issue. `knownFields(path)` lists the fields allowed in the map at `path`, for
 * unknown-field messages; one unrecognized_keys issue becomes one message per unknown key.
 */
export function explainIssue(issue: z.core.$ZodIssue, knownFields: (path: FieldPath) => readonly string[]): ExplainedIssue[] {
  const path = issue.path as FieldPath;
  switch (issue.code) {
    case "unrecognized_keys": {
      const known = knownFields(path);
      return issue.keys.map((key) => ({
        path: [...path, key],
        message: `unknown field "${key}"${known.length > 0 ? `; known: ${known.join(", ")}` : ""}`,
      }));
    }
    case "invalid_type": {
      if (issue.input === undefined) {
        return [{ path, message: `required field is missing (expected ${typeNames[issue.expected] ?? issue.expected})` }];
      }
      return [{ path, message: `expected ${typeNames[issue.expected] ?? issue.expected}, got ${describeValue(issue.input)}` }];
    }
    case "invalid_value": {
      const last = path[path.length - 1];
      const noun = enumNouns[typeof last === "number" ? String(path[path.length - 2]) : String(last)] ?? "value";
      return [{ path, message: `unknown ${noun} ${describeValue(issue.input)}; known: ${issue.values.map(String).join(", ")}` }];
    }
    case "too_big":
    case "too_small":
      return [{ path, message: boundMessage(issue) }];
    default:
      return [{ path, message: issue.message }];
  }
}
