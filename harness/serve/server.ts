// `raftlab serve`'s HTTP server (node:http, no framework): the index at "/", and the files under
// the results directory, read-only. A request path is decoded once, resolved under the root, and
// refused (403) when it would leave the root, by "..", by an encoded "..", or through a symbolic
// link whose target lies outside (checked on the real path).
import { createReadStream } from "node:fs";
import { readdir, realpath, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { extname, resolve, sep } from "node:path";
import { escapeHtml } from "../results/svg-charts.js";
import { encodePath, renderIndexHtml } from "./index-html.js";
import { indexResults } from "./results-index.js";

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".jsonl": "text/plain; charset=utf-8",
  ".yaml": "text/plain; charset=utf-8",
  ".yml": "text/plain; charset=utf-8",
  ".log": "text/plain; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

export interface ResultsServerOptions {
  root: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
}

/** Starts serving; resolves with the server and its URL once it listens. */
export async function startResultsServer(options: ResultsServerOptions): Promise<{ server: Server; url: string }> {
  const root = await realpath(resolve(options.root));
  const server = createServer((request, response) => {
    handle(root, request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        send(response, 500, "text/plain; charset=utf-8", `internal error: ${error instanceof Error ? error.message : String(error)}\n`);
      } else {
        response.destroy();
      }
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolveListen();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return { server, url: `http://${host}:${port}/` };
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { "content-type": type, "x-content-type-options": "nosniff", "cache-control": "no-store" });
  response.end(body);
}

/** The file system path for a URL path, or a status to refuse it with. */
export async function resolveRequestPath(root: string, urlPath: string): Promise<{ path: string } | { status: 400 | 403 | 404; reason: string }> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { status: 400, reason: "bad percent-encoding" };
  }
  if (decoded.includes("\0") || decoded.includes("\\")) {
    return { status: 400, reason: "bad characters in the path" };
  }
  // Refuse any ".." segment outright, before resolving: no path needs one.
  if (decoded.split("/").some((segment) => segment === "..")) {
    return { status: 403, reason: "the path leaves the results folder" };
  }
  const candidate = resolve(root, `.${decoded.startsWith("/") ? decoded : `/${decoded}`}`);
  if (candidate !== root && !candidate.startsWith(root + sep)) {
    return { status: 403, reason: "the path leaves the results folder" };
  }
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    return { status: 404, reason: "not found" };
  }
  if (real !== root && !real.startsWith(root + sep)) {
    return { status: 403, reason: "a link points outside the results folder" };
  }
  return { path: real };
}

async function handle(root: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.setHeader("allow", "GET, HEAD");
    send(response, 405, "text/plain; charset=utf-8", "read-only: GET and HEAD only\n");
    return;
  }
  // The raw path, not new URL(...).pathname: that would quietly resolve "/../x" and "/%2e%2e/x" to
  // "/x", and a request trying to leave the folder deserves a plain refusal.
  const pathname = (request.url ?? "/").split(/[?#]/, 1)[0] ?? "/";
  const url = { pathname };
  if (url.pathname === "/" || url.pathname === "/index.html") {
    send(response, 200, contentTypes[".html"]!, renderIndexHtml(await indexResults(root), root));
    return;
  }
  if (url.pathname === "/index.json") {
    send(response, 200, contentTypes[".json"]!, `${JSON.stringify(await indexResults(root), null, 2)}\n`);
    return;
  }
  const resolved = await resolveRequestPath(root, url.pathname);
  if (!("path" in resolved)) {
    send(response, resolved.status, "text/plain; charset=utf-8", `${resolved.reason}\n`);
    return;
  }
  const info = await stat(resolved.path);
  if (info.isDirectory()) {
    send(response, 200, contentTypes[".html"]!, await directoryListing(root, resolved.path, url.pathname));
    return;
  }
  if (!info.isFile()) {
    send(response, 403, "text/plain; charset=utf-8", "not a regular file\n");
    return;
  }
  response.writeHead(200, {
    "content-type": contentTypes[extname(resolved.path)] ?? "application/octet-stream",
    "content-length": info.size,
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
  });
  if (request.method === "HEAD") {
    response.end();
    return;
  }
  createReadStream(resolved.path).pipe(response);
}

async function directoryListing(root: string, directory: string, urlPath: string): Promise<string> {
  const children = (await readdir(directory, { withFileTypes: true })).sort((left, right) => left.name.localeCompare(right.name));
  const base = urlPath.endsWith("/") ? urlPath : `${urlPath}/`;
  const relativePath =
    directory === root
      ? ""
      : directory
          .slice(root.length + 1)
          .split(sep)
          .join("/");
  const items = children.map((child) => {
    const name = child.isDirectory() ? `${child.name}/` : child.name;
    return `<li><a href="${escapeHtml(base + encodePath(child.name))}${child.isDirectory() ? "/" : ""}">${escapeHtml(name)}</a></li>`;
  });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(relativePath || ".")}</title></head>
<body style="font: 14px system-ui, sans-serif; margin: 24px"><p><a href="/">all results</a> / ${escapeHtml(relativePath)}</p><ul>${items.join("")}</ul></body></html>
`;
}
