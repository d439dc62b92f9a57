// The results server on a real socket: the index lists runs and comparisons newest first, files
// are served read-only, and every way out of the results folder is refused: "..", encoded "..",
// encoded slashes, backslashes, NUL, and symbolic links (to a file or a folder) pointing outside.
import { request, type Server } from "node:http";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { indexResults } from "./results-index.js";
import { startResultsServer } from "./server.js";

let base: string;
let root: string;
let server: Server;
let port: number;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "raftlab-serve-"));
  root = join(base, "results");
  await mkdir(join(base, "outside"), { recursive: true });
  await writeFile(join(base, "outside", "secret.txt"), "secret\n");
  await writeFile(join(base, "secret.txt"), "secret\n");
  const run = async (path: string, summary: Record<string, unknown>): Promise<void> => {
    await mkdir(join(root, path, "nodes"), { recursive: true });
    await writeFile(join(root, path, "summary.json"), JSON.stringify(summary));
    await writeFile(join(root, path, "report.html"), "<!doctype html><title>report</title>");
    await writeFile(join(root, path, "nodes", "node-1.log"), "{}\n");
  };
  await run("kv-kill/20261201T000000Z", { name: "kv-kill", plugin: "kv", runtime: "local", valid: true, seed: 1, started: "2026-12-01T00:00:00.000Z" });
  await run("queue-kill/20261202T000000Z", {
    name: "queue-kill",
    plugin: "queue",
    runtime: "docker",
    valid: false,
    seed: 2,
    started: "2026-12-02T00:00:00.000Z",
  });
  await mkdir(join(root, "compare", "cmp", "20261203T000000Z"), { recursive: true });
  await writeFile(
    join(root, "compare", "cmp", "20261203T000000Z", "comparison.json"),
    JSON.stringify({
      name: "cmp",
      runtime: "local",
      started: "2026-12-03T00:00:00.000Z",
      plugins: [{ label: "kv" }, { label: "counter" }],
      fault_sets: [{}],
      seeds: [1],
      cells: [{}, {}],
      worst: "unknown",
    }),
  );
  await run("compare/cmp/20261203T000000Z/runs/kv--workload--s1", {
    name: "cmp",
    plugin: "kv",
    runtime: "local",
    valid: "unknown",
    seed: 1,
    started: "2026-12-03T00:00:01.000Z",
  });
  await symlink(join(base, "outside"), join(root, "escape-dir"));
  await symlink(join(base, "secret.txt"), join(root, "escape-file"));
  await symlink("kv-kill/20261201T000000Z", join(root, "latest"));
  ({ server } = await startResultsServer({ root, host: "127.0.0.1", port: 0 }));
  const address = server.address();
  port = typeof address === "object" && address !== null ? address.port : 0;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await rm(base, { recursive: true, force: true });
});

/** A GET (or other method) with the path sent exactly as written, no client-side normalising. */
function get(path: string, method = "GET"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: "127.0.0.1", port, path, method }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    outgoing.on("error", reject);
    outgoing.end();
  });
}

test("the index lists runs and comparisons newest first, a comparison's runs marked as part of it", async () => {
  const entries = await indexResults(root);
  expect(entries.map((entry) => [entry.kind, entry.path, entry.verdict, entry.partOf])).toEqual([
    ["run", "compare/cmp/20261203T000000Z/runs/kv--workload--s1", "unknown", "compare/cmp/20261203T000000Z"],
    ["comparison", "compare/cmp/20261203T000000Z", "unknown", null],
    ["run", "queue-kill/20261202T000000Z", "invalid", null],
    ["run", "kv-kill/20261201T000000Z", "valid", null],
  ]);
  const index = await get("/");
  expect(index.status).toBe(200);
  expect(index.body).toContain('href="/kv-kill/20261201T000000Z/report.html"');
  expect(index.body).toContain('href="/compare/cmp/20261203T000000Z/comparison.json"');
});

test("files and folders under the root are served; links inside the root are followed", async () => {
  expect(await get("/kv-kill/20261201T000000Z/report.html")).toEqual({ status: 200, body: "<!doctype html><title>report</title>" });
  expect((await get("/latest/summary.json")).status).toBe(200);
  const listing = await get("/kv-kill/20261201T000000Z/nodes/");
  expect(listing.status).toBe(200);
  expect(listing.body).toContain('href="/kv-kill/20261201T000000Z/nodes/node-1.log"');
  expect((await get("/nothing-here")).status).toBe(404);
});

test("read-only: only GET and HEAD", async () => {
  expect((await get("/kv-kill/20261201T000000Z/summary.json", "HEAD")).status).toBe(200);
  for (const method of ["POST", "PUT", "DELETE"]) {
    expect((await get("/kv-kill/20261201T000000Z/summary.json", method)).status).toBe(405);
  }
});

test.each([
  ["/../secret.txt", 403],
  ["/%2e%2e/secret.txt", 403],
  ["/%2E%2E%2Fsecret.txt", 403],
  ["/kv-kill/%2e%2e/%2e%2e/secret.txt", 403],
  ["/kv-kill/..%2f..%2fsecret.txt", 403],
  ["/..%5csecret.txt", 400],
  ["/secret.txt%00.html", 400],
  ["/%zz", 400],
  ["/escape-dir/secret.txt", 403],
  ["/escape-file", 403],
  ["/escape-dir/", 403],
])("refuses %s with %i, never the secret", async (path, status) => {
  const response = await get(path);
  expect(response.status).toBe(status);
  expect(response.body).not.toContain("secret\n");
});
