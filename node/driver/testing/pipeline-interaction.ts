// Transcripts of one node's Ready pipeline over a disk the script completes by hand (MemoryNode,
// ManualDisk): they pin the asynchronous-storage rules the pipeline relies on, in the same
// `command / ---- / output` form as the core's transcripts (node/raft/testing/interaction.ts).
// Commands:
//   node id=1 voters=1,2,3 [depth=8]   a fresh node (heartbeatTicks 1, electionTicks 10)
//   campaign | propose <text> | tick [n] | step <type> key=value...   inputs (then the pumps run)
//   complete log|snapshot [n]          finishes the n oldest disk operations, then the pumps run
//   status                             the core's view and what is durable
// Every input prints the messages sent since the last print and the disk operations pending.
import { describeMessage } from "../../raft/describe.js";
import { parseMessage } from "../../raft/testing/interaction.js";
import { bytes } from "../../raft/testing/test-network.js";
import { MemoryNode } from "../memory-node.js";

export class PipelineEnv {
  #node: MemoryNode | undefined;
  #printedMessages = 0;

  run(line: string): string {
    const [command, ...args] = line.trim().split(/\s+/);
    const option = (name: string): string | undefined => args.find((arg) => arg.startsWith(`${name}=`))?.slice(name.length + 1);
    if (command === "node") {
      const id = Number(option("id"));
      const voters = (option("voters") ?? String(id)).split(",").map(Number);
      const depth = Number(option("depth") ?? "8");
      this.#node = new MemoryNode({ id, voters, readysInflightMax: depth });
      this.#printedMessages = 0;
      return `node ${id}: voters ${voters.join(",")}, pipeline depth ${depth}`;
    }
    const node = this.#node;
    if (node === undefined) {
      throw new Error(`pipeline interaction: "${line}" before a node command`);
    }
    switch (command) {
      case "campaign":
        node.rawNode.campaign();
        node.pipeline.kick();
        break;
      case "propose":
        node.rawNode.propose(bytes(args[0] ?? ""));
        node.pipeline.kick();
        break;
      case "tick":
        for (let i = 0; i < Number(args[0] ?? "1"); i++) {
          node.tick();
        }
        break;
      case "step":
        node.step(parseMessage([String(node.rawNode.status().id), ...args]));
        break;
      case "complete": {
        const queue = args[0] === "snapshot" ? "snapshot" : "log";
        for (let i = 0; i < Number(args[1] ?? "1"); i++) {
          if (!node.disk.completeNext(queue)) {
            throw new Error(`pipeline interaction: no ${queue} operation pending`);
          }
        }
        break;
      }
      case "status": {
        const status = node.rawNode.status();
        return `${status.role} term=${status.term} commit=${status.commit} last=${status.lastIndex} durable=${node.pipeline.durableLastIndex} applied=${node.state.applied}`;
      }
      default:
        throw new Error(`pipeline interaction: unknown command ${JSON.stringify(command)}`);
    }
    node.run();
    return this.#report(node);
  }

  #report(node: MemoryNode): string {
    const lines = node.sent.slice(this.#printedMessages).map((message) => `sent ${describeMessage(message)}`);
    this.#printedMessages = node.sent.length;
    lines.push(`disk: ${node.disk.queues.log.length} log, ${node.disk.queues.snapshot.length} snapshot pending`);
    return lines.join("\n");
  }
}
