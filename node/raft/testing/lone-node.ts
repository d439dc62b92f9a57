// Building blocks for scripted core tests: one RawNode from a given log and hard state, with no
// network around it, and a drain that collects what it sends.
import { SeededRng } from "../../../lib/rng.js";
import type { Entry, Message } from "../messages.js";
import { RawNode } from "../raw-node.js";
import { bytes } from "./test-network.js";

export function entry(term: number, index: number, data = ""): Entry {
  return { term, index, type: "normal", data: bytes(data) };
}

/** A node with this log, term and commit (applied up to commit), and a seeded rng from its id. */
export function lone(id: number, voters: number[], entries: Entry[] = [], term = 0, commit = 0): RawNode {
  return new RawNode(
    {
      id,
      electionTicks: 10,
      heartbeatTicks: 1,
      preVote: false,
      checkQuorum: false,
      maxMessageBytes: 1 << 20,
      maxEntriesPerMessage: 64,
      maxInflightMessages: 8,
      maxUncommittedEntryBytes: 1 << 30,
      rng: new SeededRng(id),
    },
    { hardState: { term, vote: 0, commit }, entries, confState: { voters }, applied: commit },
  );
}

/** Takes and advances every Ready, returning the messages they carried. */
export function drain(node: RawNode): Message[] {
  const messages: Message[] = [];
  while (node.hasReady()) {
    const ready = node.ready();
    messages.push(...ready.messages);
    node.advance(ready);
  }
  return messages;
}
