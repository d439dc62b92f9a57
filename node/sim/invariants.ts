// Safety properties of Raft (Figure 3), checked by the simulator as the run goes:
// Election Safety (one leader per term), Log Matching, Leader Completeness, State Machine Safety,
// monotonic commit per node lifetime, durability of committed entries, and ReadIndex freshness.
import type { Entry, NodeId } from "../raft/messages.js";
import type { RawNode } from "../raft/raw-node.js";
import { hashBytes, FNV_OFFSET, type SimNode } from "./sim-node.js";
import { majority } from "../../lib/majority.js";

export type Property =
  | "election-safety"
  | "log-matching"
  | "leader-completeness"
  | "state-machine-safety"
  | "commit-monotonic"
  | "durability"
  | "read-freshness"
  | "node-stopped"
  | "exactly-once"
  | "snapshot-prefix"
  | "stability"
  | "liveness";

export class InvariantViolation extends Error {
  readonly code = "SIM_INVARIANT_VIOLATED";
  constructor(
    readonly property: Property,
    detail: string,
  ) {
    super(`${property}: ${detail}`);
    this.name = "InvariantViolation";
  }
}

interface EntryRecord {
  contentHash: number;
  previousTerm: number;
}

const TERM_LIMIT = 1_000_000;

function contentHash(entry: Entry): number {
  return hashBytes(entry.type === "confChange" ? 1 : FNV_OFFSET, entry.data) ^ entry.data.length;
}

export class Invariants {
  readonly #leaderByTerm = new Map<number, NodeId>();
  /** (index, term) -> content and previous term: the same pair must always name the same entry. */
  readonly #entries = new Map<number, EntryRecord>();
  /** committedTerms[i]: the term of the entry committed at index i, as first seen committed. */
  readonly #committedTerms: number[] = [0];
  /** committedSeenInTerm[i]: the observing node's term when index i was first seen committed (>= the committing leader's term). */
  readonly #committedSeenInTerm: number[] = [0];
  /** appliedContent[i]: the content hash applied at index i. */
  readonly #appliedContent: number[] = [0];
  /** Per node life: its commit index, and how far its entries were recorded as committed. */
  readonly #commitSeen = new Map<NodeId, { incarnation: number; commit: number; recorded: number }>();
  readonly #readsPending = new Map<string, number>();
  /** Highest index any node has applied (acknowledged to a client, as far as anyone knows). */
  maxApplied = 0;

  /** The term committed at index (as far as the simulator saw), or undefined. */
  committedTermAt(index: number): number | undefined {
    const term = this.#committedTerms[index];
    return term === undefined || term === -1 ? undefined : term;
  }

  get highestCommitted(): number {
    return this.#committedTerms.length - 1;
  }

  /** After every event at a node: election safety and a monotonic, agreeing commit index. */
  checkNode(node: SimNode): void {
    const raw = node.raw;
    if (raw === undefined) {
      return;
    }
    const r = raw.raft;
    if (r.role === "leader") {
      const known = this.#leaderByTerm.get(r.term);
      if (known === undefined) {
        this.#leaderByTerm.set(r.term, node.id);
        this.#checkLeaderCompleteness(node.id, raw);
      } else if (known !== node.id) {
        throw new InvariantViolation("election-safety", `nodes ${known} and ${node.id} are both leaders of term ${r.term}`);
      }
    }
    const commit = r.log.committed;
    const seen = this.#commitSeen.get(node.id);
    const sameLife = seen !== undefined && seen.incarnation === node.incarnation;
    if (sameLife && commit < seen.commit) {
      throw new InvariantViolation("commit-monotonic", `node ${node.id} commit went from ${seen.commit} to ${commit}`);
    }
    // Committed as this node has externalised it: a leader counts its own unsynced entries towards
    // commit, but clamps what it sends (and applies nothing) beyond its durable index, so only
    // that much is known committed. A follower's commit came from a leader's clamped messages,
    // except on a node that stepped down: its core keeps the commit it counted as leader (found
    // by seed 848: a deposed leader, its commit 6 above its durable 5, then lost entry 6 in a
    // crash). Clamping every role to its durable index records no more than was externalised.
    const externalised = Math.min(commit, node.pipeline?.durableLastIndex ?? commit);
    const recorded = Math.max(externalised, sameLife ? seen.recorded : 0);
    const from = sameLife ? seen.recorded : r.log.snapshotIndex;
    for (let index = Math.max(from + 1, r.log.snapshotIndex + 1); index <= externalised; index++) {
      const term = r.log.term(index);
      if (term === undefined) {
        throw new InvariantViolation("state-machine-safety", `node ${node.id} committed index ${index} without an entry`);
      }
      const known = this.#committedTerms[index];
      if (known === undefined) {
        if (index !== this.#committedTerms.length) {
          // A gap: an older commit point is held only in snapshots; record what this node has.
          while (this.#committedTerms.length < index) {
            this.#committedTerms.push(-1);
          }
        }
        this.#committedTerms[index] = term;
        this.#committedSeenInTerm[index] = r.term;
      } else if (known !== -1 && known !== term) {
        throw new InvariantViolation("state-machine-safety", `index ${index} committed with term ${known} elsewhere but term ${term} on node ${node.id}`);
      } else if (known === -1) {
        this.#committedTerms[index] = term;
        this.#committedSeenInTerm[index] = r.term;
      }
    }
    this.#commitSeen.set(node.id, { incarnation: node.incarnation, commit, recorded });
  }

  #checkLeaderCompleteness(id: NodeId, raw: RawNode): void {
    const log = raw.raft.log;
    for (let index = log.snapshotIndex + 1; index < this.#committedTerms.length; index++) {
      const committed = this.#committedTerms[index] as number;
      // Leader Completeness binds leaders of later terms: a leader of a stale term elected late
      // (its votes held in the network) need not hold what a newer term committed.
      const seenInTerm = this.#committedSeenInTerm[index] ?? 0;
      if (committed !== -1 && seenInTerm < raw.raft.term && log.term(index) !== committed) {
        throw new InvariantViolation(
          "leader-completeness",
          `node ${id} became leader of term ${raw.raft.term} without committed entry ${index} (term ${committed}); it has term ${log.term(index) ?? "none"}`,
        );
      }
    }
  }

  /** Entries a Ready asks to persist: an (index, term) pair must always name the same entry and predecessor term. */
  checkNewEntries(id: NodeId, raw: RawNode, entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.term >= TERM_LIMIT) {
        throw new InvariantViolation("log-matching", `term ${entry.term} beyond the simulator's limit`);
      }
      const key = entry.index * TERM_LIMIT + entry.term;
      const previousTerm = raw.raft.log.term(entry.index - 1) ?? -1;
      const record = { contentHash: contentHash(entry), previousTerm };
      const known = this.#entries.get(key);
      if (known === undefined) {
        this.#entries.set(key, record);
      } else if (known.contentHash !== record.contentHash || (known.previousTerm !== previousTerm && previousTerm !== -1 && known.previousTerm !== -1)) {
        throw new InvariantViolation(
          "log-matching",
          `node ${id} holds a different entry ${entry.term}/${entry.index} (previous term ${previousTerm} vs ${known.previousTerm})`,
        );
      }
    }
  }

  /** An entry applied at a node: everyone applies the same thing at an index, and a majority holds it durably. */
  checkApplied(
    node: SimNode,
    entry: Entry,
    voters: readonly NodeId[],
    previousVoters: readonly NodeId[] | undefined,
    nodes: ReadonlyMap<NodeId, SimNode>,
  ): void {
    const hash = contentHash(entry);
    const known = this.#appliedContent[entry.index];
    if (known === undefined) {
      while (this.#appliedContent.length < entry.index) {
        this.#appliedContent.push(-1);
      }
      this.#appliedContent[entry.index] = hash;
    } else if (known !== -1 && known !== hash) {
      throw new InvariantViolation("state-machine-safety", `node ${node.id} applied a different command at index ${entry.index}`);
    } else if (known === -1) {
      this.#appliedContent[entry.index] = hash;
    }
    const durableMajority = (set: readonly NodeId[]): boolean => {
      let holders = 0;
      for (const voter of set) {
        if (nodes.get(voter)?.holdsDurably(entry.index, entry.term) === true) {
          holders++;
        }
      }
      return holders >= majority(set.length);
    };
    // The leader that committed the entry counted in this configuration or, if it had not applied
    // the latest change yet, the one before (one change at a time: their majorities overlap).
    if (voters.length > 0 && !durableMajority(voters) && (previousVoters === undefined || !durableMajority(previousVoters))) {
      const holders = voters.filter((voter) => nodes.get(voter)?.holdsDurably(entry.index, entry.term) === true).length;
      throw new InvariantViolation(
        "durability",
        `node ${node.id} applied ${entry.term}/${entry.index} but only ${holders} of voters ${voters.join(",")} persisted it`,
      );
    }
    if (entry.index > this.maxApplied) {
      this.maxApplied = entry.index;
    }
  }

  /** A node is about to discard persisted entries (truncation or snapshot install): none may be committed. */
  checkDiscard(node: SimNode, discarded: readonly Entry[], coveredUpTo: number): void {
    for (const entry of discarded) {
      if (entry.index > coveredUpTo && this.#committedTerms[entry.index] === entry.term) {
        throw new InvariantViolation("durability", `node ${node.id} discards committed entry ${entry.term}/${entry.index} from disk`);
      }
    }
  }

  onReadRequested(contextKey: string): void {
    this.#readsPending.set(contextKey, this.maxApplied);
  }

  /** A read index must cover everything applied anywhere before the read was requested. */
  onReadState(id: NodeId, contextKey: string, index: number): void {
    const floor = this.#readsPending.get(contextKey);
    if (floor === undefined) {
      return;
    }
    if (index < floor) {
      throw new InvariantViolation(
        "read-freshness",
        `node ${id} got read index ${index} for read ${contextKey}, but index ${floor} was applied before the read`,
      );
    }
  }
}
