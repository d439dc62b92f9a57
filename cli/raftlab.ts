#!/usr/bin/env node
// raftlab's command-line entry: dispatches to one module per subcommand, loaded lazily so that
// `raftlab node` does not load the harness and `raftlab check` does not load Docker.
const usage = `usage: raftlab <command> [options]

commands:
  run [FILE]      run a YAML workload (default: the embedded default workload)
  compare FILE    run a workload for several plugins x fault sets x seeds and compare them
  serve [DIR]     browse every run and comparison in a local web page
  check FILE      check a history file for linearizability
  wal dump DIR    print a node's data directory (snapshots, WAL records, hard state) as JSON Lines
  node            run one Raft node server
  clean           remove leftover raftlab containers, networks and volumes
  help            show this help
`;

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  run: async () => (await import("./run.js")).runCommand,
  compare: async () => (await import("./compare.js")).compareCommand,
  serve: async () => (await import("./serve.js")).serveCommand,
  check: async () => (await import("./check.js")).checkCommand,
  node: async () => (await import("../node/server/main.js")).nodeCommand,
  clean: async () => (await import("./clean.js")).cleanCommand,
  wal: async () => (await import("./wal-dump.js")).walCommand,
};

/**
 * A reader that went away (`raftlab run | head`) makes writes fail with EPIPE, which Node raises
 * as an uncaught error: exit 1, which means "invalid". Output nobody reads is no failure; the run
 * still tears down its cluster and exits with its verdict.
 */
function ignoreClosedOutput(stream: NodeJS.WriteStream): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") {
      process.exitCode = 255;
    }
  });
}
ignoreClosedOutput(process.stdout);
ignoreClosedOutput(process.stderr);

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(usage);
    return name === undefined ? 254 : 0;
  }
  const load = commands[name];
  if (load === undefined) {
    process.stderr.write(`raftlab: unknown command "${name}"; known: ${Object.keys(commands).join(", ")}\n`);
    return 254;
  }
  return (await load())(rest);
}

/**
 * Once a command has returned, the process should end as soon as its output is flushed. A handle
 * left open (a socket, a stream, a child) must not keep it alive for ever: a script or CI job
 * waiting for the verdict would hang. After a grace period, say what was still open and exit.
 */
const exitGraceMs = 5_000;
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => {
    process.stderr.write(`raftlab: still open ${exitGraceMs} ms after the command ended (${process.getActiveResourcesInfo().join(", ")}); exiting\n`);
    process.exit(code);
  }, exitGraceMs).unref();
}

main(process.argv.slice(2)).then(exitSoon, (error: unknown) => {
  process.stderr.write(`raftlab: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  exitSoon(255);
});
