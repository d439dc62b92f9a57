// Keeps lib/error-codes.ts complete: every code an error class or code union in the sources names
// must be listed there (and the list names no code the sources no longer use).
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { ERROR_CODES } from "./error-codes.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const folders = ["lib", "plugins", "node", "history", "checker", "harness", "docker", "cli"];

function sources(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    return entry.isDirectory() ? sources(path) : entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** Codes declared by `readonly code = "X"` and by union types named ...Code (`type FooErrorCode = | "A" | "B"`). */
function declaredCodes(): Map<string, string> {
  const codes = new Map<string, string>();
  for (const file of folders.flatMap((folder) => sources(join(root, folder)))) {
    const text = readFileSync(file, "utf8");
    const found = [
      ...[...text.matchAll(/readonly code = "([A-Z_]+)"/g)].map((match) => match[1]!),
      ...[...text.matchAll(/export type \w*Code\w* =([\s\S]*?"[A-Z_]+")\s*;/g)].flatMap((match) =>
        [...match[1]!.matchAll(/"([A-Z_]+)"/g)].map((inner) => inner[1]!),
      ),
    ];
    for (const code of found) {
      codes.set(code, relative(root, file));
    }
  }
  return codes;
}

test("every error code in the sources is listed in lib/error-codes.ts, and only those", () => {
  const declared = declaredCodes();
  const missing = [...declared].filter(([code]) => !(code in ERROR_CODES)).map(([code, file]) => `${code} (${file})`);
  expect(missing).toEqual([]);
  const stale = Object.keys(ERROR_CODES).filter((code) => !declared.has(code));
  expect(stale).toEqual([]);
});

test("one scheme: SCREAMING_SNAKE_CASE without a RAFTLAB_ prefix", () => {
  for (const code of Object.keys(ERROR_CODES)) {
    expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
    expect(code.startsWith("RAFTLAB_")).toBe(false);
  }
});
