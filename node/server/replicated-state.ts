// The node's replicated state: the plugin's state machine, the at-most-once session table and the
// member address book. Every node applies the same committed entries in the same order through
// this class, so all of it is deterministic. Snapshot data = [u8 version][u32 header length]
// [header JSON {sessions, members}][plugin state bytes].
import { PluginError, type Json, type Operation, type Plugin, type SnapshotReader, type StateMachine } from "../../plugins/api.js";
import { SessionTable, type CommandOutcome } from "./client-port/sessions.js";
import type { CommandEnvelope, MemberContext } from "./client-port/command-envelope.js";
import { checkedSnapshotBytes, jsonProblem } from "./plugin-contract.js";
import type { StateSerialiser } from "../driver/local-snapshots.js";

const SNAPSHOT_VERSION = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export interface MemberAddresses {
  peerAddress?: string;
  clientAddress?: string;
}

function snapshotBytes(header: Uint8Array, pluginSlices: readonly Uint8Array[]): Uint8Array {
  const pluginLength = pluginSlices.reduce((sum, slice) => sum + slice.length, 0);
  const bytes = new Uint8Array(5 + header.length + pluginLength);
  bytes[0] = SNAPSHOT_VERSION;
  new DataView(bytes.buffer).setUint32(1, header.length);
  bytes.set(header, 5);
  let offset = 5 + header.length;
  for (const slice of pluginSlices) {
    bytes.set(slice, offset);
    offset += slice.length;
  }
  return bytes;
}

export class SnapshotDataError extends Error {
  readonly code = "BAD_SNAPSHOT_DATA";
  override readonly name = "SnapshotDataError";
}

/** Restores a snapshot one slice per step(): true once the last step swapped it in. */
export interface StateRestorer {
  step(): boolean;
}

interface ParsedSnapshot {
  members: Map<number, MemberAddresses>;
  sessions: unknown;
  pluginBytes: Uint8Array;
}

export class ReplicatedState {
  readonly stateMachine: StateMachine;
  readonly sessions: SessionTable;
  /** Address book of every member ever added and not removed, by node id. */
  readonly members = new Map<number, MemberAddresses>();
  /** Commands applied (not deduplicated ones); for stats. */
  commandsApplied = 0;

  /** UNSAFE snapshot-without-sessions: snapshots leave the session table out. */
  readonly #snapshotWithoutSessions: boolean;

  constructor(
    readonly plugin: Plugin,
    sessionsMax: number,
    /** Told of every broken contract (a throw that is not a PluginError, a result JSON cannot encode). */
    readonly onContractViolation: (message: string) => void = () => undefined,
    unsafe: { snapshotWithoutSessions?: boolean } = {},
  ) {
    this.#snapshotWithoutSessions = unsafe.snapshotWithoutSessions === true;
    this.stateMachine = plugin.createStateMachine();
    this.sessions = new SessionTable(sessionsMax);
  }

  /** Applies one committed command with session deduplication. Never throws on a bad operation. */
  applyCommand(envelope: CommandEnvelope): CommandOutcome {
    const session = envelope.session;
    if (session !== undefined) {
      const check = this.sessions.check(session.clientId, session.seq);
      if (check.kind === "unknown" && this.#snapshotWithoutSessions) {
        // UNSAFE snapshot-without-sessions: like implementations that register sessions
        // implicitly, a session the table lacks (lost with a snapshot) is taken as new.
        this.sessions.open(session.clientId);
      } else if (check.kind === "unknown") {
        return {
          ok: false,
          code: "SESSION_EXPIRED",
          message: `session ${session.clientId} is not open (never opened, or expired beyond ${this.sessions.capacity} sessions): open a new one`,
        };
      }
      if (check.kind === "duplicate") {
        return check.outcome;
      }
      if (check.kind === "stale") {
        return {
          ok: false,
          code: "BAD_REQUEST",
          message: `stale seq: session ${session.clientId} seq ${session.seq} is below its last applied seq ${check.lastSeq}`,
        };
      }
    }
    const outcome = this.#apply(envelope.op);
    this.commandsApplied += 1;
    if (session !== undefined) {
      this.sessions.record(session.clientId, session.seq, outcome);
    }
    return outcome;
  }

  /** Opens a client session named by the index of its open entry; returns the session id. */
  openSession(entryIndex: number): string {
    const clientId = String(entryIndex);
    this.sessions.open(clientId);
    return clientId;
  }

  /** Serves a read-only operation from the current state (the caller ensured linearizability). */
  read(op: Operation): CommandOutcome {
    return this.#apply(op);
  }

  /**
   * The plugin's answer, checked. A PluginError is the contract's refusal (BAD_REQUEST). Any other
   * throw, or a result JSON cannot encode, breaks the contract: the command gets a PLUGIN_FAILED
   * outcome naming the plugin and operation, the same on every replica (the plugin is
   * deterministic), and the node goes on.
   */
  #apply(op: Operation): CommandOutcome {
    let result: unknown;
    try {
      result = this.stateMachine.apply(op);
    } catch (error) {
      if (error instanceof PluginError) {
        return { ok: false, code: "BAD_REQUEST", message: `${error.code}: ${error.message}` };
      }
      const thrown = error instanceof Error ? `${error.name}: ${error.message}` : `a non-Error value ${String(error)}`;
      return this.#violation(`plugin ${this.plugin.name}: apply(${op.f}) threw ${thrown} instead of a PluginError`);
    }
    const problem = jsonProblem(result);
    if (problem !== undefined) {
      return this.#violation(`plugin ${this.plugin.name}: apply(${op.f}) returned a value JSON cannot carry: ${problem}`);
    }
    return { ok: true, result: result as Json };
  }

  #violation(message: string): CommandOutcome {
    this.onContractViolation(message);
    return { ok: false, code: "PLUGIN_FAILED", message: `${message}; the plugin breaks its contract, so the command's effect is unknown` };
  }

  addMember(nodeId: number, context: MemberContext): void {
    const addresses: MemberAddresses = {};
    if (context.peerAddress !== undefined) {
      addresses.peerAddress = context.peerAddress;
    }
    if (context.clientAddress !== undefined) {
      addresses.clientAddress = context.clientAddress;
    }
    this.members.set(nodeId, addresses);
  }

  removeMember(nodeId: number): void {
    this.members.delete(nodeId);
  }

  snapshotData(): Uint8Array {
    return snapshotBytes(this.#snapshotHeader(), [checkedSnapshotBytes(this.plugin.name, this.stateMachine.snapshot())]);
  }

  /**
   * Freezes the replicated state now and serialises it one slice per step(), so the caller can
   * yield to the event loop between slices while entries keep applying. The session table and
   * address book (small) are copied at once; the plugin's state is written by its beginSnapshot
   * writer, or in one step by snapshot() for a plugin without one.
   */
  beginSnapshot(sliceBytes: number): StateSerialiser {
    const header = this.#snapshotHeader();
    const writer = this.stateMachine.beginSnapshot?.();
    if (writer === undefined) {
      return { step: () => this.snapshotData() };
    }
    const slices: Uint8Array[] = [];
    return {
      step: () => {
        const slice: unknown = writer.next(sliceBytes);
        if (slice === undefined) {
          return snapshotBytes(header, slices);
        }
        slices.push(checkedSnapshotBytes(this.plugin.name, slice));
        return undefined;
      },
    };
  }

  #snapshotHeader(): Uint8Array {
    const members: Json[] = [];
    for (const [id, addresses] of [...this.members].sort((a, b) => a[0] - b[0])) {
      members.push([id, addresses.peerAddress ?? null, addresses.clientAddress ?? null]);
    }
    return encoder.encode(JSON.stringify({ sessions: this.#snapshotWithoutSessions ? [] : this.sessions.toJson(), members }));
  }

  /**
   * Replaces all replicated state with a snapshot's; throws SnapshotDataError or PluginError on bad
   * bytes, after which the state is unusable (the node cannot continue and exits).
   */
  restore(data: Uint8Array, label: string): void {
    const restorer = this.beginRestore(data, label, Infinity);
    while (!restorer.step()) {
      // one step: the whole plugin state goes in one slice
    }
  }

  /**
   * Restores a snapshot one slice per step() (issue 11, defect 3): the header (sessions, members)
   * is checked at the first step, the plugin's bytes go to its beginRestore reader `sliceBytes` at
   * a time, and the step that returns true swaps everything in. Until then the state in force is
   * unchanged, and no entry may apply. A plugin without beginRestore is restored by restore() in
   * one step. A step that throws (SnapshotDataError, SessionTableError, PluginError) leaves the
   * plugin's state intact when it implements beginRestore.
   */
  beginRestore(data: Uint8Array, label: string, sliceBytes: number): StateRestorer {
    let parsed: ParsedSnapshot | undefined;
    let reader: SnapshotReader | undefined;
    let offset = 0;
    return {
      step: () => {
        if (parsed === undefined) {
          parsed = this.#parseSnapshot(data, label);
          reader = this.stateMachine.beginRestore?.();
          if (reader === undefined) {
            this.stateMachine.restore(parsed.pluginBytes);
            this.#swapIn(parsed);
            return true;
          }
        }
        const bytes = parsed.pluginBytes;
        const end = Math.min(bytes.length, offset + sliceBytes);
        reader!.push(bytes.subarray(offset, end));
        offset = end;
        if (offset < bytes.length) {
          return false;
        }
        reader!.finish();
        this.#swapIn(parsed);
        return true;
      },
    };
  }

  #swapIn(parsed: ParsedSnapshot): void {
    this.sessions.restore(parsed.sessions); // already checked: cannot throw
    this.members.clear();
    for (const [id, addresses] of parsed.members) {
      this.members.set(id, addresses);
    }
  }

  #parseSnapshot(data: Uint8Array, label: string): ParsedSnapshot {
    if (data.length < 5 || data[0] !== SNAPSHOT_VERSION) {
      throw new SnapshotDataError(`${label}: not a raftlab snapshot (version byte ${data[0] ?? "missing"})`);
    }
    const headerLength = new DataView(data.buffer, data.byteOffset, data.length).getUint32(1);
    if (5 + headerLength > data.length) {
      throw new SnapshotDataError(`${label}: header length ${headerLength} runs past the end (${data.length} bytes)`);
    }
    let header: { sessions?: unknown; members?: unknown };
    try {
      header = JSON.parse(decoder.decode(data.subarray(5, 5 + headerLength))) as typeof header;
    } catch (error) {
      throw new SnapshotDataError(`${label}: header is not JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(header.members)) {
      throw new SnapshotDataError(`${label}: header field members is not an array`);
    }
    const members = new Map<number, MemberAddresses>();
    for (const row of header.members as unknown[]) {
      const [id, peerAddress, clientAddress] = Array.isArray(row) ? (row as unknown[]) : [];
      if (!Number.isSafeInteger(id)) {
        throw new SnapshotDataError(`${label}: header field members has a row without a node id`);
      }
      const addresses: MemberAddresses = {};
      if (typeof peerAddress === "string") {
        addresses.peerAddress = peerAddress;
      }
      if (typeof clientAddress === "string") {
        addresses.clientAddress = clientAddress;
      }
      members.set(id as number, addresses);
    }
    // Checked here, before the plugin's state is replaced, so a bad table cannot fail the swap.
    new SessionTable(this.sessions.capacity).restore(header.sessions);
    return { members, sessions: header.sessions, pluginBytes: data.subarray(5 + headerLength) };
  }
}
