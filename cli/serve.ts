// `raftlab serve [RESULTS_DIR] [--port 8080] [--host 127.0.0.1]`: browse every run and comparison
// in a local web page. Read-only; bound to 127.0.0.1 unless --host says otherwise.
import { stat } from "node:fs/promises";
import { parseArgs } from "node:util";
import { startResultsServer } from "../harness/serve/server.js";

const usage = `usage: raftlab serve [RESULTS_DIR] [--port 8080] [--host 127.0.0.1]

Serves RESULTS_DIR (default: results) read-only: an index of every run and comparison, newest
first, with filters, and each folder's report.html, linearizability.html, compare.html and raw files.
`;

export async function serveCommand(argv: string[]): Promise<number> {
  let root: string;
  let port: number;
  let host: string;
  try {
    const parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { port: { type: "string" }, host: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
    if (parsed.values.help === true) {
      process.stdout.write(usage);
      return 0;
    }
    if (parsed.positionals.length > 1) {
      throw new Error(`expected at most one results directory, got ${parsed.positionals.length}`);
    }
    root = parsed.positionals[0] ?? "results";
    port = Number(parsed.values.port ?? "8080");
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new Error(`--port: expected a port from 0 to 65535, got "${parsed.values.port ?? ""}"`);
    }
    host = parsed.values.host ?? "127.0.0.1";
    if (
      !(await stat(root).then(
        (info) => info.isDirectory(),
        () => false,
      ))
    ) {
      throw new Error(`${root}: not a directory (run \`raftlab run\` first, or name a results folder)`);
    }
  } catch (error) {
    process.stderr.write(`raftlab serve: ${(error as Error).message}\n${usage}`);
    return 254;
  }
  const { server, url } = await startResultsServer({ root, host, port });
  process.stderr.write(`raftlab serve: ${root} at ${url} (read-only; Ctrl-C stops)\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  return 0;
}
