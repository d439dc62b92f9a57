// Every verdict of the shared reference histories (Porcupine's and Knossos's test data) must be
// reproduced exactly.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { readHistoryFile } from "../history/parse.js";
import { checkOperations, readOnlyOperations } from "./linearizable.js";
import { historyOperations } from "./operations.js";
import { loadPlugin } from "../plugins/registry.js";

const dataDirectory = join(dirname(fileURLToPath(import.meta.url)), "testdata/reference");

interface ManifestRow {
  file: string;
  plugin: string;
  expected: string;
}

function readManifest(): ManifestRow[] {
  const [header, ...rows] = readFileSync(join(dataDirectory, "MANIFEST.tsv"), "utf8").trim().split("\n");
  expect(header?.split("\t").slice(0, 3)).toEqual(["file", "plugin", "expected"]);
  return rows.map((row) => {
    const [file = "", plugin = "", expected = ""] = row.split("\t");
    return { file, plugin, expected };
  });
}

const manifest = readManifest();

describe("reference histories (MANIFEST.tsv)", () => {
  test("the manifest lists 123 histories", () => {
    expect(manifest.length).toBe(123);
  });

  test.each(manifest)("$file is $expected", async ({ file, plugin, expected }) => {
    const loaded = await loadPlugin(plugin);
    // Some converted Knossos histories reuse a process after an info read; see ParseOptions.
    const history = await readHistoryFile(join(dataDirectory, file), { allowInvokeAfterInfo: true });
    const { operations } = historyOperations(history.events);
    const result = checkOperations(loaded.model, operations, { readOnly: readOnlyOperations(loaded) });
    expect(result.verdict).toBe(expected);
    // Without the read-only hint the search prunes less but must agree.
    expect(checkOperations(loaded.model, operations).verdict).toBe(expected);
  });
});
