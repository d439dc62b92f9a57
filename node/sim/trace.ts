// The simulator's event trace: a ring of the last events for failure reports, and optionally the
// full text of every event (determinism test). Descriptions are built only when read.
import type { Message, NodeId } from "../raft/messages.js";
import { describeMessage } from "../raft/describe.js";

export interface TraceRecord {
  time: number;
  kind: string;
  node: NodeId;
  message?: Message | undefined;
  detail?: string | undefined;
}

export function describeRecord(record: TraceRecord): string {
  const what = record.message !== undefined ? describeMessage(record.message) : (record.detail ?? "");
  return `t=${record.time} ${record.kind} n${record.node}${what.length > 0 ? ` ${what}` : ""}`;
}

export class Trace {
  readonly #ring: (TraceRecord | undefined)[];
  #next = 0;
  /** Every event's text when keepAll is set. */
  readonly all: string[] = [];

  constructor(
    readonly size: number,
    readonly keepAll: boolean,
  ) {
    this.#ring = new Array<TraceRecord | undefined>(size);
  }

  record(time: number, kind: string, node: NodeId, message?: Message, detail?: string): void {
    const record: TraceRecord = { time, kind, node, message, detail };
    this.#ring[this.#next] = record;
    this.#next = (this.#next + 1) % this.size;
    if (this.keepAll) {
      this.all.push(describeRecord(record));
    }
  }

  last(): string[] {
    const lines: string[] = [];
    for (let i = 0; i < this.size; i++) {
      const record = this.#ring[(this.#next + i) % this.size];
      if (record !== undefined) {
        lines.push(describeRecord(record));
      }
    }
    return lines;
  }
}
