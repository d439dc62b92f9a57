// A minimal synchronous in-memory network of RawNodes for the core's own unit and paper tests
// (node/sim has the full fault-injecting simulator). Persistence is immediate; messages are
// queued FIFO and delivered by deliverAll(); `cut` drops messages between node pairs.
import type { ConfChange, Entry, Message, NodeId } from "../messages.js";
import { RawNode, type InitialState } from "../raw-node.js";
import type { RaftConfig } from "../raft.js";
import { SeededRng } from "../../../lib/rng.js";
import { decodeConfChange } from "../conf-change-codec.js";

export interface TestNetworkOptions {
  preVote?: boolean;
  checkQuorum?: boolean;
  seed?: number;
  config?: Partial<RaftConfig>;
}

export class TestNetwork {
  readonly nodes = new Map<NodeId, RawNode>();
  readonly applied = new Map<NodeId, Entry[]>();
  readonly queue: Message[] = [];
  /** Every message delivered (or dropped), in order. */
  readonly sent: Message[] = [];
  readonly #cut = new Set<string>();
  readonly options: TestNetworkOptions;

  constructor(ids: readonly NodeId[], options: TestNetworkOptions = {}) {
    this.options = options;
    for (const id of ids) {
      this.add(id, { hardState: { term: 0, vote: 0, commit: 0 }, entries: [], confState: { voters: [...ids] }, applied: 0 });
    }
  }

  add(id: NodeId, initial: InitialState): RawNode {
    const node = new RawNode(this.config(id), initial);
    this.nodes.set(id, node);
    this.applied.set(id, []);
    return node;
  }

  config(id: NodeId): RaftConfig {
    return {
      id,
      electionTicks: 10,
      heartbeatTicks: 1,
      preVote: this.options.preVote ?? false,
      checkQuorum: this.options.checkQuorum ?? false,
      maxMessageBytes: 1024 * 1024,
      maxEntriesPerMessage: 64,
      maxInflightMessages: 16,
      maxUncommittedEntryBytes: 1 << 30,
      rng: new SeededRng((this.options.seed ?? 1) * 1000 + id),
      ...this.options.config,
    };
  }

  node(id: NodeId): RawNode {
    const node = this.nodes.get(id);
    if (node === undefined) {
      throw new Error(`test-network: no node ${id}`);
    }
    return node;
  }

  /** Cuts (or restores) both directions between a and b. */
  cut(a: NodeId, b: NodeId, isCut = true): void {
    for (const key of [`${a}-${b}`, `${b}-${a}`]) {
      if (isCut) {
        this.#cut.add(key);
      } else {
        this.#cut.delete(key);
      }
    }
  }

  isolate(id: NodeId, isolated = true): void {
    for (const other of this.nodes.keys()) {
      if (other !== id) {
        this.cut(id, other, isolated);
      }
    }
  }

  heal(): void {
    this.#cut.clear();
  }

  processReady(id: NodeId): void {
    const node = this.node(id);
    while (node.hasReady()) {
      const ready = node.ready();
      this.queue.push(...ready.messages);
      const applied = this.applied.get(id) ?? [];
      for (const entry of ready.committedEntries) {
        applied.push(entry);
        if (entry.type === "confChange") {
          const change: ConfChange = decodeConfChange(entry.data, entry.index);
          node.applyConfChange(change);
        }
      }
      node.advance(ready);
    }
  }

  /** Processes Readies and delivers messages until the network is quiet. */
  deliverAll(limit = 100_000): void {
    for (let step = 0; step < limit; step++) {
      for (const id of this.nodes.keys()) {
        this.processReady(id);
      }
      const message = this.queue.shift();
      if (message === undefined) {
        return;
      }
      this.sent.push(message);
      if (this.#cut.has(`${message.from}-${message.to}`)) {
        continue;
      }
      this.nodes.get(message.to)?.step(message);
    }
    throw new Error("test-network: the network did not go quiet");
  }

  tick(id: NodeId, ticks = 1): void {
    for (let i = 0; i < ticks; i++) {
      this.node(id).tick();
    }
  }

  tickAll(ticks = 1): void {
    for (let i = 0; i < ticks; i++) {
      for (const node of this.nodes.values()) {
        node.tick();
      }
      this.deliverAll();
    }
  }

  campaign(id: NodeId): void {
    this.node(id).campaign();
    this.deliverAll();
  }

  leaders(): NodeId[] {
    return [...this.nodes.values()].filter((node) => node.status().role === "leader").map((node) => node.status().id);
  }

  appliedData(id: NodeId): string[] {
    return (this.applied.get(id) ?? [])
      .filter((entry) => entry.type === "normal" && entry.data.length > 0)
      .map((entry) => new TextDecoder().decode(entry.data));
  }
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
