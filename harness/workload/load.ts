// Reads a workload file with the YAML parser's position information kept, validates it, and
// reports every problem as `file:line: field.path: message`.
import { readFile } from "node:fs/promises";
import { isMap, isNode, isPair, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { WorkloadFileError, type WorkloadProblem } from "./errors.js";
import { explainIssue, formatFieldPath, type FieldPath } from "./issues.js";
import { workloadSchema, type WorkloadSpec } from "./schema.js";

/** A validated workload and where it came from, so later checks can point at its lines too. */
export interface LoadedWorkload {
  /** The file name used in messages ("workloads/kv-kill.yaml", or "<default workload>"). */
  file: string;
  spec: WorkloadSpec;
  /** The 1-based line of a field (or of its nearest present parent); undefined when unknown. */
  lineOf(path: FieldPath): number | undefined;
}

/** How many times YAML aliases may be expanded (yaml's default): a workload needs few, if any. */
const maxAliasCount = 100;

/** Reads and validates a workload file; throws WorkloadFileError naming the file, line and field. */
export async function readWorkloadFile(path: string): Promise<LoadedWorkload> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new WorkloadFileError(path, [{ field: "", message: `cannot read the workload file: ${reason}` }]);
  }
  return parseWorkload(text, path);
}

/** Parses and validates workload YAML. `file` names the source in messages. */
export function parseWorkload(text: string, file: string): LoadedWorkload {
  const { data, lineOf } = parseValidatedYaml(text, file, workloadSchema, "expected a map of workload fields (name, plugin, clients, ...)");
  return { file, spec: data, lineOf };
}

/**
 * Parses YAML and validates it against a schema of strict objects (any raftlab YAML file: a
 * workload, a swarm hosts file); throws WorkloadFileError naming the file, line and field of every
 * problem. `notAMap` is the message when the document is not a map.
 */
export function parseValidatedYaml<Schema extends z.ZodType>(
  text: string,
  file: string,
  schema: Schema,
  notAMap: string,
): { data: z.output<Schema>; lineOf: (path: FieldPath) => number | undefined } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number): number => lineCounter.linePos(offset).line;
  if (document.errors.length > 0) {
    throw new WorkloadFileError(
      file,
      document.errors.map((error) => ({ line: lineAt(error.pos[0]), field: "", message: `YAML syntax: ${firstLine(error.message)}` })),
    );
  }
  const lineOf = (path: FieldPath): number | undefined => lineOfPath(document, path, lineAt);
  let data: unknown;
  try {
    // yaml stops an alias that expands without bound ("billion laughs") with a ReferenceError.
    data = document.toJS({ maxAliasCount: maxAliasCount });
  } catch (error) {
    throw new WorkloadFileError(file, [{ line: 1, field: "", message: `YAML aliases: ${firstLine(error instanceof Error ? error.message : String(error))}` }]);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new WorkloadFileError(file, [{ line: 1, field: "", message: notAMap }]);
  }
  const result = schema.safeParse(data, { reportInput: true });
  if (!result.success) {
    const problems: WorkloadProblem[] = [];
    for (const issue of result.error.issues) {
      for (const explained of explainIssue(issue, (path) => knownFieldsAt(schema, path))) {
        problems.push({ line: lineOf(explained.path), field: formatFieldPath(explained.path), message: explained.message });
      }
    }
    problems.sort((left, right) => (left.line ?? 0) - (right.line ?? 0));
    throw new WorkloadFileError(file, problems);
  }
  return { data: result.data, lineOf };
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}

/** The line of the field at `path`: its key's line in a map, its own line in a list; for a
 * missing field, the line of the nearest parent that exists. */
function lineOfPath(document: Document, path: FieldPath, lineAt: (offset: number) => number): number | undefined {
  for (let length = path.length; length > 0; length -= 1) {
    const prefix = path.slice(0, length);
    const keyLine = keyLineOf(document, prefix, lineAt);
    if (keyLine !== undefined) {
      return keyLine;
    }
    const node = document.getIn(prefix, true);
    if (isNode(node) && node.range) {
      return lineAt(node.range[0]);
    }
  }
  const root = document.contents;
  return isNode(root) && root.range ? lineAt(root.range[0]) : undefined;
}

/** The line of the key `path[last]` in the map at `path[0..last)`, when that map has the key. */
function keyLineOf(document: Document, path: FieldPath, lineAt: (offset: number) => number): number | undefined {
  const parent = path.length === 1 ? document.contents : document.getIn(path.slice(0, -1), true);
  const key = path[path.length - 1];
  if (!isMap(parent) || typeof key !== "string") {
    return undefined;
  }
  for (const pair of parent.items) {
    if (isPair(pair) && isScalar(pair.key) && pair.key.value === key && pair.key.range) {
      return lineAt(pair.key.range[0]);
    }
  }
  return undefined;
}

/** The field names the schema allows in the map at `path`, for "unknown field" messages. */
export function knownFieldsAt(schema: z.ZodType, path: FieldPath): string[] {
  let current: z.core.$ZodType | undefined = schema;
  const unwrap = (type: z.core.$ZodType): z.core.$ZodType => {
    let inner = type;
    for (;;) {
      const definition = inner._zod.def;
      if ("innerType" in definition && definition.innerType !== undefined) {
        inner = definition.innerType as z.core.$ZodType;
      } else if (definition.type === "pipe" && "in" in definition) {
        inner = definition.in as z.core.$ZodType;
      } else {
        return inner;
      }
    }
  };
  for (const segment of path) {
    if (current === undefined) {
      return [];
    }
    const definition: z.core.$ZodTypeDef = unwrap(current)._zod.def;
    if (definition.type === "object" && typeof segment === "string") {
      current = (definition as z.core.$ZodObjectDef).shape[segment];
    } else if (definition.type === "array") {
      current = (definition as z.core.$ZodArrayDef).element;
    } else if (definition.type === "record") {
      current = (definition as z.core.$ZodRecordDef).valueType;
    } else {
      return [];
    }
  }
  if (current === undefined) {
    return [];
  }
  const definition = unwrap(current)._zod.def;
  return definition.type === "object" ? Object.keys((definition as z.core.$ZodObjectDef).shape) : [];
}
