// Replayable interaction transcripts for the core (etcd raft's datadriven interaction tests): a
// script of commands, each followed by `----` and the exact text it must print. The environment
// plays a synchronous I/O shell: process-ready persists instantly and queues the Ready's messages
// per recipient; deliver-msgs steps them. Output is built from describe.ts, so it stays stable.
import type { Entry, Message, MessageType, NodeId } from "../messages.js";
import { describeMessage, describeReady } from "../describe.js";
import { newMessage } from "../raft.js";
import { TestNetwork, bytes } from "./test-network.js";

export class InteractionEnv {
  #net = new TestNetwork([]);
  /** Messages sent and not yet delivered, by recipient. */
  readonly #inbox = new Map<NodeId, ReturnType<typeof newMessage>[]>();

  /** Runs one command line; returns what it prints (without a trailing newline). */
  run(line: string): string {
    const [command, ...args] = line.trim().split(/\s+/);
    const ids = (): NodeId[] => args.filter((arg) => /^\d+$/.test(arg)).map(Number);
    const option = (name: string): string | undefined => args.find((arg) => arg.startsWith(`${name}=`))?.slice(name.length + 1);
    switch (command) {
      case "add-nodes": {
        const count = Number(args[0]);
        const voters = Array.from({ length: count }, (_, i) => i + 1);
        this.#net = new TestNetwork(voters, { preVote: option("prevote") === "true", checkQuorum: option("checkquorum") === "true" });
        return `added ${count} nodes: voters ${voters.join(",")}`;
      }
      case "campaign":
        this.#net.node(ids()[0]!).campaign();
        return "ok";
      case "propose":
        this.#net.node(Number(args[0])).propose(bytes(args[1] ?? ""));
        return "ok";
      case "tick-election": {
        const node = this.#net.node(ids()[0]!);
        for (let i = 0; i < 2 * node.raft.config.electionTicks; i++) {
          node.tick();
        }
        return "ok";
      }
      case "tick-heartbeat":
        this.#net.node(ids()[0]!).tick();
        return "ok";
      case "process-ready":
        return ids()
          .map((id) => this.#processReady(id))
          .join("\n");
      case "deliver-msgs":
        return ids()
          .map((id) => this.#deliver(id, option("drop") === "true"))
          .join("\n");
      case "stabilize":
        return this.#stabilize();
      case "step": {
        // step <to> <type> from=N term=N index=N logTerm=N commit=N entries=T/I,T/I reject=true
        // hands one hand-made message to a node, as etcd's transcripts do to set up a log or a peer.
        const message = parseMessage(args);
        this.#net.node(message.to).step(message);
        return `> ${message.to} receiving\n  recv ${describeMessage(message)}`;
      }
      case "status":
        return ids()
          .map((id) => {
            const s = this.#net.node(id).status();
            return `${id}: ${s.role} term=${s.term} vote=${s.vote} commit=${s.commit} last=${s.lastIndex} leader=${s.leader}`;
          })
          .join("\n");
      default:
        throw new Error(`interaction: unknown command ${JSON.stringify(command)}`);
    }
  }

  #processReady(id: NodeId): string {
    const node = this.#net.node(id);
    if (!node.hasReady()) {
      return `> ${id}: no Ready`;
    }
    const ready = node.ready();
    for (const message of ready.messages) {
      const inbox = this.#inbox.get(message.to) ?? [];
      inbox.push(message);
      this.#inbox.set(message.to, inbox);
    }
    node.advance(ready);
    return `> ${id} handling Ready\n${describeReady(ready).replace(/^/gm, "  ")}`;
  }

  #deliver(id: NodeId, drop: boolean): string {
    const messages = this.#inbox.get(id) ?? [];
    this.#inbox.set(id, []);
    if (messages.length === 0) {
      return `> ${id}: no messages`;
    }
    const lines = messages.map((message) => `  ${drop ? "dropped" : "recv"} ${describeMessage(message)}`);
    if (!drop) {
      for (const message of messages) {
        this.#net.node(id).step(message);
      }
    }
    return `> ${id} ${drop ? "dropping" : "receiving"} messages\n${lines.join("\n")}`;
  }

  #stabilize(): string {
    const out: string[] = [];
    for (let round = 0; round < 1000; round++) {
      let progressed = false;
      for (const id of this.#net.nodes.keys()) {
        if (this.#net.node(id).hasReady()) {
          out.push(this.#processReady(id));
          progressed = true;
        }
      }
      for (const id of this.#net.nodes.keys()) {
        if ((this.#inbox.get(id)?.length ?? 0) > 0) {
          out.push(this.#deliver(id, false));
          progressed = true;
        }
      }
      if (!progressed) {
        return out.join("\n");
      }
    }
    throw new Error("interaction: stabilize did not converge");
  }
}

const STEP_NUMBER_FIELDS = ["from", "term", "index", "logTerm", "commit"] as const;

/** The message of a `step` line: `<to> <type> key=value...`; throws naming the line's bad part. */
export function parseMessage(args: readonly string[]): Message {
  const [to, type, ...fields] = args;
  if (to === undefined || !/^\d+$/.test(to) || type === undefined) {
    throw new Error(`interaction: step needs <to> <type>, got ${JSON.stringify(args.join(" "))}`);
  }
  const message: Partial<Message> = {};
  for (const field of fields) {
    const [key = "", value = ""] = field.split("=");
    if ((STEP_NUMBER_FIELDS as readonly string[]).includes(key) && /^\d+$/.test(value)) {
      message[key as (typeof STEP_NUMBER_FIELDS)[number]] = Number(value);
    } else if (key === "reject" && (value === "true" || value === "false")) {
      message.reject = value === "true";
    } else if (key === "entries") {
      message.entries = value.split(",").map((termIndex): Entry => {
        const [term, index] = termIndex.split("/").map(Number);
        if (!Number.isSafeInteger(term) || !Number.isSafeInteger(index)) {
          throw new Error(`interaction: step: entry ${JSON.stringify(termIndex)} is not term/index`);
        }
        return { term: term!, index: index!, type: "normal", data: bytes("") };
      });
    } else {
      throw new Error(`interaction: step: bad field ${JSON.stringify(field)}`);
    }
  }
  return newMessage(type as MessageType, Number(to), message);
}

/** Runs a transcript and returns it with every command's output replaced by what it printed now. */
export function runTranscript(text: string, env: { run(line: string): string } = new InteractionEnv()): string {
  const blocks = text.split(/\n\n+/).filter((block) => block.trim().length > 0);
  const out: string[] = [];
  for (const block of blocks) {
    const lines = block.split("\n");
    if (lines[0]!.startsWith("#")) {
      out.push(block.trimEnd());
      continue;
    }
    const separator = lines.indexOf("----");
    const commands = (separator < 0 ? lines : lines.slice(0, separator)).filter((line) => line.trim().length > 0 && !line.startsWith("#"));
    const printed = commands.map((command) => env.run(command)).join("\n");
    out.push(`${(separator < 0 ? lines : lines.slice(0, separator)).join("\n")}\n----\n${printed}`);
  }
  return `${out.join("\n\n")}\n`;
}
