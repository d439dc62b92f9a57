// `raftlab node --config FILE`: the node's flags as a YAML (or JSON) mapping, keys spelled like the
// flags without their dashes (`client-listen`, `snapshot-every`). Lists and maps are accepted where
// the flag takes a comma list (`peers: { n1: "10.0.0.1:7000", n2: ... }`, `unsafe: [stale-reads]`).
// Flags on the command line override the file, so one file can serve every node of a cluster.
import { readFileSync } from "node:fs";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { ConfigError } from "./config-error.js";

/** Reads a config file into the argv form parseNodeArgs takes (["--key", "value", ...]). */
export function configFileArgs(path: string, valueFlags: ReadonlySet<string>, booleanFlags: ReadonlySet<string>): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError("--config", `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos !== undefined ? `:${error.linePos[0].line}` : "";
    throw new ConfigError("--config", `${path}${where}: not valid YAML: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
  }
  if (document === null || typeof document !== "object" || Array.isArray(document)) {
    throw new ConfigError("--config", `${path}: must be a mapping of flag names to values`);
  }
  const args: string[] = [];
  for (const [key, value] of Object.entries(document as Record<string, unknown>)) {
    const flag = `--${key}`;
    const field = `${path}: ${key}`;
    if (booleanFlags.has(flag)) {
      if (typeof value !== "boolean") {
        throw new ConfigError("--config", `${field}: must be true or false`);
      }
      if (value) args.push(flag);
    } else if (valueFlags.has(flag) && flag !== "--config") {
      args.push(flag, flagValue(field, value));
    } else {
      throw new ConfigError(
        "--config",
        `${field}: unknown setting; known: ${[...valueFlags, ...booleanFlags]
          .filter((name) => name !== "--config")
          .map((name) => name.slice(2))
          .join(", ")}`,
      );
    }
  }
  return args;
}

function flagValue(field: string, value: unknown): string {
  if (typeof value === "string" || typeof value === "number") {
    return String(value);
  }
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
    return value.join(",");
  }
  if (value !== null && typeof value === "object" && Object.values(value).every((item) => typeof item === "string")) {
    return Object.entries(value as Record<string, string>)
      .map(([id, address]) => `${id}=${address}`)
      .join(",");
  }
  throw new ConfigError("--config", `${field}: must be a string, a number, a list of strings or a map of ids to addresses`);
}
