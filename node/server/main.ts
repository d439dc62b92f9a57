// `raftlab node ...`: runs one Raft node until SIGTERM (graceful: exit 0) or a fatal error.
// Exit codes: 254 bad command line (the message names the flag), 1 could not start or failed
// while running (e.g. CORRUPT_WAL, naming the file and offset), 0 after a graceful stop.
import { PluginError } from "../../plugins/api.js";
import { loadPlugin } from "../../plugins/registry.js";
import { ConfigError, NODE_USAGE, parseNodeArgs, type NodeConfig } from "./config/config.js";
import { createJsonLogger } from "./logger.js";
import { NodeServer } from "./node-server.js";

/** How long a stopped node may take to release its handles before the process exits anyway. */
const EXIT_GRACE_MS = 2000;

/** How often a node logs its resident memory ("memory" records, read by `raftlab compare`). */
const MEMORY_LOG_INTERVAL_MS = 2_000;

export async function nodeCommand(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(NODE_USAGE);
    return 0;
  }
  let config: NodeConfig;
  try {
    config = parseNodeArgs(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`raftlab node: ${error.message}\n${NODE_USAGE}`);
      return 254;
    }
    throw error;
  }
  const logger = createJsonLogger({ node: config.id, levelMin: config.logLevel });
  if (config.unsafe.size > 0) {
    logger.warn(`UNSAFE MODE: ${[...config.unsafe].join(", ")} switched on; this node breaks linearizability on purpose`, {
      unsafe: [...config.unsafe],
    });
  }
  let plugin;
  try {
    plugin = await loadPlugin(config.plugin, { cwd: process.cwd() });
  } catch (error) {
    if (error instanceof PluginError) {
      logger.error(`--plugin: ${error.message}`, { code: error.code });
      process.stderr.write(`raftlab node: --plugin: ${error.message}\n`);
      return 254;
    }
    throw error;
  }
  let server: NodeServer;
  try {
    server = await NodeServer.start(config, plugin, logger);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    logger.error(`cannot start: ${(error as Error).message}`, { code, error });
    return exitSoon(1);
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    void server.shutdown(signal);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  if (config.exitWithParent) {
    // EOF (or an error) on stdin means the process holding the pipe is gone.
    const parentGone = (): void => void server.shutdown("stdin closed: the parent process exited");
    process.stdin.once("end", parentGone);
    process.stdin.once("error", parentGone);
    process.stdin.resume();
  }
  // The node reports its own memory, so comparisons see it on every runtime (Docker or local).
  const memory = setInterval(() => {
    const usage = process.memoryUsage();
    logger.info("memory", { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed });
  }, MEMORY_LOG_INTERVAL_MS);
  memory.unref();
  const code = await server.done;
  clearInterval(memory);
  process.off("SIGTERM", onSignal);
  process.off("SIGINT", onSignal);
  if (code !== 0) {
    process.exit(code); // a fatal error: do not linger with open ports (logs are already written)
  }
  return exitSoon(code);
}

/** Returns `code` and makes sure the process ends even if a socket or timer still holds it. */
function exitSoon(code: number): number {
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  return code;
}
