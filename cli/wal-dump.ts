// `raftlab wal dump DIR [--plugin NAME|PATH]`: prints a node's data directory (e.g. a run's
// results/<run>/nodes/<id>/data/) as JSON Lines: snapshots, then each WAL segment with its records
// in write order (entries with their decoded commands, hard states, snapshot markers), damage where
// a segment stops reading, and finally the hard state recovery would use and a summary. Read-only.
// Field names are stable and documented in the README ("raftlab wal dump").
import { parseArgs } from "node:util";
import type { Operation, Plugin } from "../plugins/api.js";
import { loadPlugin } from "../plugins/registry.js";
import { decodeCommand, decodeMemberContext } from "../node/server/client-port/command-envelope.js";
import { decodeConfChangeEntryData } from "../node/server/conf-change-data.js";
import { dumpDataDirectory, NotADataDirectoryError, type DataDirectoryDump, type RecordLine } from "../node/server/storage/data-dump.js";
import type { Entry } from "../node/raft/messages.js";

const usage = `usage: raftlab wal dump DIR [--plugin NAME|PATH]

Prints a node's data directory (its --data; a run keeps copies in results/<run>/nodes/<id>/data/)
as JSON Lines, without changing it: one line per snapshot file, per WAL segment, per WAL record
(entries with their decoded command, hard states, snapshot markers), per damaged spot (torn tail or
corruption), then the hard state recovery would use and a summary.
  --plugin NAME|PATH  describe each command with this plugin's model (kv, counter, queue, or a path)
Exit codes: 0 dumped (damage is reported in lines), 254 bad usage or DIR is not a data directory.
`;

const options = { plugin: { type: "string" }, help: { type: "boolean", short: "h" } } as const;

export async function walCommand(argv: string[]): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand === "--help" || subcommand === "-h") {
    process.stdout.write(usage);
    return 0;
  }
  if (subcommand !== "dump") {
    process.stderr.write(`raftlab wal: unknown subcommand ${JSON.stringify(subcommand ?? "")}; known: dump\n${usage}`);
    return 254;
  }
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true });
  } catch (error) {
    process.stderr.write(`raftlab wal dump: ${(error as Error).message}\n${usage}`);
    return 254;
  }
  if (parsed.values.help === true) {
    process.stdout.write(usage);
    return 0;
  }
  const [directory, ...extra] = parsed.positionals;
  if (directory === undefined || extra.length > 0) {
    process.stderr.write(`raftlab wal dump: expected exactly one DIR\n${usage}`);
    return 254;
  }
  let plugin: Plugin | undefined;
  if (parsed.values.plugin !== undefined) {
    try {
      plugin = await loadPlugin(parsed.values.plugin);
    } catch (error) {
      process.stderr.write(`raftlab wal dump: --plugin: ${error instanceof Error ? error.message : String(error)}\n`);
      return 254;
    }
  }
  let dump: DataDirectoryDump;
  try {
    dump = await dumpDataDirectory(directory);
  } catch (error) {
    if (error instanceof NotADataDirectoryError) {
      process.stderr.write(`raftlab wal dump: ${error.message}\n`);
      return 254;
    }
    throw error;
  }
  for (const line of dumpLines(dump, plugin)) {
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  return 0;
}

/** The dump as the objects printed, one per line, in order. */
export function dumpLines(dump: DataDirectoryDump, plugin: Plugin | undefined): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [...dump.snapshots];
  for (const segment of dump.segments) {
    lines.push({ kind: "segment", file: segment.file, bytes: segment.bytes });
    for (const record of dump.records.filter((candidate) => candidate.file === segment.file)) {
      lines.push(recordLine(record, plugin));
    }
    lines.push(...dump.damage.filter((damage) => damage.file === segment.file));
  }
  const hardState = dump.hardState;
  lines.push({ kind: "hard_state", term: hardState?.term ?? null, vote: hardState?.vote ?? null, commit: hardState?.commit ?? null });
  const entries = dump.records.flatMap((record) => (record.record.kind === "entry" ? [record.record.entry.index] : []));
  lines.push({
    kind: "summary",
    snapshots: dump.snapshots.length,
    segments: dump.segments.length,
    records: dump.records.length,
    entries: entries.length,
    first_index: entries.length === 0 ? null : Math.min(...entries),
    last_index: entries.length === 0 ? null : Math.max(...entries),
    torn_tails: dump.damage.filter((damage) => damage.torn).length,
    corrupt: dump.damage.filter((damage) => !damage.torn).length,
    other_files: dump.others,
  });
  return lines;
}

function recordLine(line: RecordLine, plugin: Plugin | undefined): Record<string, unknown> {
  const where = { file: line.file, offset: line.offset, size: line.size };
  const record = line.record;
  switch (record.kind) {
    case "hardState":
      return { kind: "hard_state_record", ...where, term: record.hardState.term, vote: record.hardState.vote, commit: record.hardState.commit };
    case "snapshotMarker":
      return { kind: "snapshot_marker", ...where, index: record.marker.index, term: record.marker.term, retained_through: record.marker.retainedThrough };
    case "entry":
      return {
        kind: "entry",
        ...where,
        index: record.entry.index,
        term: record.entry.term,
        type: record.entry.type,
        data_bytes: record.entry.data.byteLength,
        ...entryContent(record.entry, plugin),
      };
  }
}

/** What an entry carries, decoded; a decode failure is reported in the line, never thrown. */
function entryContent(entry: Entry, plugin: Plugin | undefined): Record<string, unknown> {
  try {
    if (entry.type === "confChange") {
      const change = decodeConfChangeEntryData(entry.data, entry.index);
      const context = decodeMemberContext(change.context);
      return {
        conf_change: {
          type: change.type,
          node_id: change.nodeId,
          ...(context.peerAddress === undefined ? {} : { peer_address: context.peerAddress }),
          ...(context.clientAddress === undefined ? {} : { client_address: context.clientAddress }),
        },
      };
    }
    if (entry.data.byteLength === 0) {
      return { noop: true };
    }
    const envelope = decodeCommand(entry.data, entry.index);
    if ("openSession" in envelope) {
      return { command: { open_session: true } };
    }
    const session = envelope.session === undefined ? {} : { client: envelope.session.clientId, seq: envelope.session.seq };
    return { command: { op: envelope.op, ...session }, ...describe(envelope.op, plugin) };
  } catch (error) {
    return { decode_error: error instanceof Error ? error.message : String(error) };
  }
}

/** With --plugin: the plugin's one-line description ("-> ?": the log holds no result). */
function describe(op: Operation, plugin: Plugin | undefined): Record<string, unknown> {
  if (plugin === undefined) {
    return {};
  }
  if (!Object.hasOwn(plugin.operations, op.f)) {
    return { decode_error: `operation ${JSON.stringify(op.f)} is not one of plugin ${plugin.name}'s (known: ${Object.keys(plugin.operations).join(", ")})` };
  }
  try {
    return { text: plugin.model.describeOperation(op, { known: false }) };
  } catch (error) {
    return { decode_error: `plugin ${plugin.name} cannot describe it: ${error instanceof Error ? error.message : String(error)}` };
  }
}
