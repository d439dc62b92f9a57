// The seeded virtual network: per-message loss, duplication and latency jitter (which reorders),
// plus partitions as a grudge (each node -> the nodes it does not hear from), so one-way and
// symmetric cuts are the same data. Decisions use the simulation's RNG only.
import type { Message, MessageType, NodeId } from "../raft/messages.js";
import type { SeededRng } from "../../lib/rng.js";

export interface NetworkOptions {
  /** Probability that a message is lost. */
  dropRate: number;
  /** Probability that a delivered message arrives twice. */
  duplicateRate: number;
  /** Latency in time units, uniform in [latencyMin, latencyMax]; jitter reorders messages. */
  latencyMin: number;
  latencyMax: number;
  /** Probability that a message is held back `holdUnits` more (past an election timeout, like 6.5840's unreliable Figure 8 test). */
  holdRate?: number;
  holdUnits?: number;
}

export const RELIABLE: NetworkOptions = { dropRate: 0, duplicateRate: 0, latencyMin: 1, latencyMax: 1 };

export class Network {
  options: NetworkOptions;
  /** target -> sources whose messages the target does not receive. */
  readonly grudge = new Map<NodeId, Set<NodeId>>();
  /** Messages handed to the network, by type (for message-count claims). */
  readonly sentByType = new Map<MessageType, number>();
  sentTotal = 0;
  /** appResp messages that rejected an app (backtracking round trips). */
  rejectedAppends = 0;
  /** Entry copies sent per directed link "from-to" (for bytes-per-entry claims). */
  readonly entriesByLink = new Map<string, number>();

  constructor(
    options: NetworkOptions,
    readonly rng: SeededRng,
  ) {
    this.options = { ...options };
  }

  /** Delivery delays for a message just sent: [] when lost, two when duplicated. */
  route(message: Message): number[] {
    this.sentTotal++;
    this.sentByType.set(message.type, (this.sentByType.get(message.type) ?? 0) + 1);
    if (message.type === "appResp" && message.reject) {
      this.rejectedAppends++;
    }
    if (message.entries.length > 0) {
      const link = `${message.from}-${message.to}`;
      this.entriesByLink.set(link, (this.entriesByLink.get(link) ?? 0) + message.entries.length);
    }
    const { dropRate, duplicateRate } = this.options;
    if (dropRate > 0 && this.rng.next() < dropRate) {
      return [];
    }
    const holdRate = this.options.holdRate ?? 0;
    const first = this.#latency() + (holdRate > 0 && this.rng.next() < holdRate ? (this.options.holdUnits ?? 0) : 0);
    if (duplicateRate > 0 && this.rng.next() < duplicateRate) {
      return [first, this.#latency()];
    }
    return [first];
  }

  #latency(): number {
    const { latencyMin, latencyMax } = this.options;
    return latencyMax > latencyMin ? latencyMin + this.rng.int(latencyMax - latencyMin + 1) : latencyMin;
  }

  /** Whether a message from `source` reaches `target` now (checked at delivery time). */
  connected(source: NodeId, target: NodeId): boolean {
    return this.grudge.get(target)?.has(source) !== true;
  }

  /** One-way cut: target stops hearing source. */
  cutOneWay(source: NodeId, target: NodeId): void {
    let sources = this.grudge.get(target);
    if (sources === undefined) {
      sources = new Set();
      this.grudge.set(target, sources);
    }
    sources.add(source);
  }

  cut(a: NodeId, b: NodeId): void {
    this.cutOneWay(a, b);
    this.cutOneWay(b, a);
  }

  /** Symmetric partition into groups: no traffic between different groups. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (const group of groups) {
      for (const other of groups) {
        if (other !== group) {
          for (const a of group) {
            for (const b of other) {
              this.cutOneWay(a, b);
            }
          }
        }
      }
    }
  }

  isolate(id: NodeId, all: readonly NodeId[]): void {
    for (const other of all) {
      if (other !== id) {
        this.cut(id, other);
      }
    }
  }

  heal(): void {
    this.grudge.clear();
  }

  resetCounters(): void {
    this.sentByType.clear();
    this.entriesByLink.clear();
    this.sentTotal = 0;
    this.rejectedAppends = 0;
  }

  describeGrudge(): string {
    const parts: string[] = [];
    for (const [target, sources] of [...this.grudge].sort((a, b) => a[0] - b[0])) {
      if (sources.size > 0) {
        parts.push(`${target}<-x-${[...sources].sort((a, b) => a - b).join(",")}`);
      }
    }
    return parts.length === 0 ? "healed" : parts.join(" ");
  }
}
