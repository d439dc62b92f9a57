// Client sessions in the simulator (Raft thesis §6.3): a session command `s:<client>:<seq>` takes
// effect only when its seq is above the client's last applied seq, which the machine keeps (and
// its snapshots carry). Clients resend the same command after a timeout or a crash, to any node,
// so the log holds duplicates. Two invariants are checked as entries apply or snapshots restore:
// - exactly once: a session command takes effect at one index only, on every node, and a node
//   skips it as a duplicate only after that index;
// - a restored snapshot equals the committed prefix: a node installing (or restarting from) a
//   snapshot at index i gets the machine that applying the committed entries 1..i gives.
import { InvariantViolation } from "./invariants.js";
import type { NodeId } from "../raft/messages.js";
import type { MachineState } from "./sim-node.js";

const SESSION_COMMAND = /^s:(\d+):(\d+)$/;

export function sessionCommand(client: number, seq: number): string {
  return `s:${client}:${seq}`;
}

export function parseSessionCommand(command: string): { client: string; seq: number } | undefined {
  const match = SESSION_COMMAND.exec(command);
  return match === null ? undefined : { client: match[1] as string, seq: Number(match[2]) };
}

/** A canonical text of a machine state (sessions sorted), to compare states. */
export function machineKey(machine: MachineState): string {
  const sessions = Object.entries(machine.sessions)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([client, seq]) => `${client}=${seq}`)
    .join(",");
  return `index=${machine.index} hash=${machine.hash} count=${machine.count} sessions={${sessions}}`;
}

export class SessionChecks {
  /** For each session command, the one index at which it took effect. */
  readonly #effectAt = new Map<string, number>();
  /** The machine after applying the committed entries 1..i, by i (as the first node to get there had it). */
  readonly #referenceAt = new Map<number, string>();

  /** Whether the command took effect somewhere (what its client learns from an answer). */
  applied(command: string): boolean {
    return this.#effectAt.has(command);
  }

  onSessionCommand(node: NodeId, index: number, command: string, tookEffect: boolean): void {
    const at = this.#effectAt.get(command);
    if (tookEffect) {
      if (at !== undefined && at !== index) {
        throw new InvariantViolation(
          "exactly-once",
          `node ${node} applied session command ${command} at index ${index}; it took effect at index ${at} already`,
        );
      }
      this.#effectAt.set(command, index);
    } else if (at === undefined || at >= index) {
      throw new InvariantViolation(
        "exactly-once",
        `node ${node} skipped session command ${command} at index ${index} as a duplicate, but it never took effect before`,
      );
    }
  }

  /** The machine after applying index `machine.index`; every node must agree on it. */
  onMachineAt(node: NodeId, machine: MachineState): void {
    const key = machineKey(machine);
    const known = this.#referenceAt.get(machine.index);
    if (known === undefined) {
      this.#referenceAt.set(machine.index, key);
    } else if (known !== key) {
      throw new InvariantViolation("state-machine-safety", `node ${node}'s machine after index ${machine.index} is ${key}; another node had ${known}`);
    }
  }

  /** A node restored a snapshot (installed from a leader, or at restart): it must be the committed prefix. */
  onRestored(node: NodeId, machine: MachineState, how: string): void {
    const known = this.#referenceAt.get(machine.index);
    const key = machineKey(machine);
    if (known === undefined) {
      this.#referenceAt.set(machine.index, key);
    } else if (known !== key) {
      throw new InvariantViolation(
        "snapshot-prefix",
        `node ${node} ${how} a snapshot at index ${machine.index} holding ${key}; applying entries 1..${machine.index} gives ${known}`,
      );
    }
  }
}
