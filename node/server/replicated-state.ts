// The node's replicated state: the plugin's state machine, the at-most-once session table and the
// member address book. Every node applies the same committed entries in the same order through
// this class, so all of it is deterministic. Snapshot data = [u8 version][u32 header length]
// [header JSON {sessions, members}][plugin state bytes].
import { PluginError, type Json, type Operation, type Plugin, type StateMachine } from "../../plugins/api.js";
import { SessionTable, type CommandOutcome } from "./client-port/sessions.js";
import type { CommandEnvelope, MemberContext } from "./client-port/command-envelope.js";
import { checkedSnapshotBytes, jsonProblem } from "./plugin-contract.js";

const SNAPSHOT_VERSION = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export interface MemberAddresses {
  peerAddress?: string;
  clientAddress?: string;
}

export class SnapshotDataError extends Error {
  readonly code = "BAD_SNAPSHOT_DATA";
  override readonly name = "SnapshotDataError";
}

export class ReplicatedState {
  readonly stateMachine: StateMachine;
  readonly sessions: SessionTable;
  /** Address book of every member ever added and not removed, by node id. */
  readonly members = new Map<number, MemberAddresses>();
  /** Commands applied (not deduplicated ones); for stats. */
  commandsApplied = 0;

  constructor(
    readonly plugin: Plugin,
    sessionsMax: number,
    /** Told of every broken contract (a throw that is not a PluginError, a result JSON cannot encode). */
    readonly onContractViolation: (message: string) => void = () => undefined,
  ) {
    this.stateMachine = plugin.createStateMachine();
    this.sessions = new SessionTable(sessionsMax);
  }

  /** Applies one committed command with session deduplication. Never throws on a bad operation. */
  applyCommand(envelope: CommandEnvelope): CommandOutcome {
    const session = envelope.session;
    if (session !== undefined) {
      const check = this.sessions.check(session.clientId, session.seq);
      if (check.kind === "unknown") {
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
    const members: Json[] = [];
    for (const [id, addresses] of [...this.members].sort((a, b) => a[0] - b[0])) {
      members.push([id, addresses.peerAddress ?? null, addresses.clientAddress ?? null]);
    }
    const header = encoder.encode(JSON.stringify({ sessions: this.sessions.toJson(), members }));
    const pluginState = checkedSnapshotBytes(this.plugin.name, this.stateMachine.snapshot());
    const bytes = new Uint8Array(5 + header.length + pluginState.length);
    const view = new DataView(bytes.buffer);
    bytes[0] = SNAPSHOT_VERSION;
    view.setUint32(1, header.length);
    bytes.set(header, 5);
    bytes.set(pluginState, 5 + header.length);
    return bytes;
  }

  /**
   * Replaces all replicated state with a snapshot's; throws SnapshotDataError or PluginError on bad
   * bytes, after which the state is unusable (the node cannot continue and exits).
   */
  restore(data: Uint8Array, label: string): void {
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
    this.stateMachine.restore(data.subarray(5 + headerLength));
    this.sessions.restore(header.sessions);
    this.members.clear();
    for (const [id, addresses] of members) {
      this.members.set(id, addresses);
    }
  }
}
