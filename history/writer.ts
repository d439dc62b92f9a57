// Streams a run's history to JSON Lines as it happens (format: event.ts and the checker-data
// README). Each append gets the next index and a time in nanoseconds since the run started, from
// the monotonic clock, never decreasing. Lines are buffered and written in batches (when the buffer
// is large, periodically, and at close), so appending costs no I/O on the client's hot path.
import { open, type FileHandle } from "node:fs/promises";
import type { Json } from "../plugins/api.js";
import type { ClientEvent, HistoryEvent, NemesisEvent } from "./event.js";

export type NewClientEvent = Omit<ClientEvent, "index" | "time">;
export type NewNemesisEvent = Omit<NemesisEvent, "index" | "time">;

export interface HistoryWriterOptions {
  /** Write buffered lines at least this often (default 500 ms). */
  flushIntervalMs?: number;
  /** Write as soon as this many bytes are buffered (default 256 KiB). */
  bufferBytesMax?: number;
  /** The run's time origin; defaults to the moment the writer opens. */
  startedNs?: bigint;
}

export class HistoryWriter {
  /** Every event appended, in order; the checks read them without parsing the file again. */
  readonly events: HistoryEvent[] = [];
  private buffered: string[] = [];
  private bufferedBytes = 0;
  private lastTimeNs = 0;
  private writing: Promise<void> = Promise.resolve();
  private writeError: unknown = undefined;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private readonly bufferBytesMax: number;

  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    readonly startedNs: bigint,
    options: HistoryWriterOptions,
  ) {
    this.bufferBytesMax = options.bufferBytesMax ?? 256 * 1024;
    this.timer = setInterval(() => this.startWrite(), options.flushIntervalMs ?? 500);
    // The periodic flush must not keep a finished process alive.
    this.timer.unref();
  }

  /** Creates (truncating) the history file. */
  static async open(path: string, options: HistoryWriterOptions = {}): Promise<HistoryWriter> {
    const handle = await open(path, "w");
    return new HistoryWriter(handle, path, options.startedNs ?? process.hrtime.bigint(), options);
  }

  /** Nanoseconds since the run started, as used in event times (non-decreasing). */
  nowNs(): number {
    const elapsed = Number(process.hrtime.bigint() - this.startedNs);
    this.lastTimeNs = Math.max(this.lastTimeNs, elapsed);
    return this.lastTimeNs;
  }

  append(event: NewClientEvent): ClientEvent;
  append(event: NewNemesisEvent): NemesisEvent;
  append(event: NewClientEvent | NewNemesisEvent): HistoryEvent {
    if (this.closed) {
      throw new Error(`invariant: no append to ${this.path} after close`);
    }
    const index = this.events.length;
    const time = this.nowNs();
    // Field order follows Jepsen's (index time type process f value), then the optional ones.
    // JSON drops an undefined field, and a line without "value" is one the parser refuses: a run
    // must never write a history its own check rejects.
    const stamped = { index, time, ...event, value: (event.value as Json | undefined) ?? null } as HistoryEvent;
    const line = JSON.stringify(orderFields(stamped));
    this.events.push(stamped);
    this.buffered.push(line);
    this.bufferedBytes += line.length + 1;
    if (this.bufferedBytes >= this.bufferBytesMax) {
      this.startWrite();
    }
    return stamped;
  }

  /** Writes everything appended so far; rejects with the first write error, if any. */
  async flush(): Promise<void> {
    this.startWrite();
    await this.writing;
    if (this.writeError !== undefined) {
      throw this.writeError;
    }
  }

  /** Flushes, syncs and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    clearInterval(this.timer);
    try {
      await this.flush();
      await this.handle.sync();
    } finally {
      this.closed = true;
      await this.handle.close();
    }
  }

  /** Queues the buffered lines behind any write in progress: one writer at a time keeps lines in order. */
  private startWrite(): void {
    if (this.buffered.length === 0 || this.writeError !== undefined) {
      return;
    }
    const chunk = `${this.buffered.join("\n")}\n`;
    this.buffered = [];
    this.bufferedBytes = 0;
    this.writing = this.writing
      .then(async () => {
        await this.handle.write(chunk);
      })
      .catch((error: unknown) => {
        this.writeError ??= error;
      });
  }
}

function orderFields(event: HistoryEvent): Record<string, unknown> {
  const { index, time, type, process, f, ...rest } = event;
  const { value, ...optional } = rest as { value: unknown } & Record<string, unknown>;
  const ordered: Record<string, unknown> = { index, time, type, process, f };
  if ("key" in optional) {
    ordered["key"] = optional["key"];
  }
  ordered["value"] = value;
  for (const [name, fieldValue] of Object.entries(optional)) {
    if (name !== "key" && fieldValue !== undefined) {
      ordered[name] = fieldValue;
    }
  }
  return ordered;
}
