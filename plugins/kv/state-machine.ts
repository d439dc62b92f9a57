// The kv state machine: a Map from key to string; an absent key reads as null.
import { PluginError, type Json, type Operation, type SnapshotReader, type SnapshotWriter, type StateMachine } from "../api.js";
import { decodeSnapshot, encodeSnapshot } from "../snapshot-codec.js";
import { KV_PLUGIN_NAME, parseKvCommand } from "./kv-command.js";

const SNAPSHOT_VERSION = 1;
const encoder = new TextEncoder();
/** Marks a key that a frozen view saw as absent. */
const ABSENT = Symbol("absent");

/**
 * Copy-on-write for one frozen view: the value each key had when the view was taken, recorded the
 * first time apply() changes that key afterwards (so freezing costs one copy of the key list).
 */
type PreImages = Map<string, string | typeof ABSENT>;

export class KvStateMachine implements StateMachine {
  #values = new Map<string, string>();
  /** Pre-images of the views being serialised (beginSnapshot); each leaves once written out. */
  readonly #views = new Set<PreImages>();

  apply(op: Operation): Json {
    const command = parseKvCommand(op);
    if (command.f !== "get") {
      this.#keepPreImage(command.key);
    }
    const current = this.#values.get(command.key) ?? null;
    switch (command.f) {
      case "get":
        return current;
      case "put":
        this.#values.set(command.key, command.value);
        return null;
      case "append":
        this.#values.set(command.key, current === null ? command.value : current + command.value);
        return null;
      case "cas":
        if (current !== command.expected) {
          return false;
        }
        this.#values.set(command.key, command.replacement);
        return true;
      case "delete":
        this.#values.delete(command.key);
        return null;
    }
  }

  /** Entries sorted by key, so equal states give equal bytes whatever the order of writes. */
  snapshot(): Uint8Array {
    const keys = [...this.#values.keys()].sort();
    const entries: Json[] = keys.map((key) => [key, this.#values.get(key) ?? null]);
    return encodeSnapshot(KV_PLUGIN_NAME, SNAPSHOT_VERSION, entries);
  }

  /**
   * Newline-separated JSON of the same envelope as snapshot(), one [key, value] per line (so a
   * reader could parse it in slices too), in the frozen map's order rather than sorted.
   */
  beginSnapshot(): SnapshotWriter {
    const values = this.#values; // restore() swaps in a new map and leaves this one as it is
    const keys = [...values.keys()];
    const preImages: PreImages = new Map();
    this.#views.add(preImages);
    let position = -1; // -1: the envelope's head is still to be written
    let written = 0;
    return {
      next: (budgetBytes: number): Uint8Array | undefined => {
        if (position > keys.length) {
          return undefined;
        }
        const parts: string[] = [];
        let size = 0;
        if (position === -1) {
          parts.push(SLICED_HEAD);
          position = 0;
        }
        for (; position < keys.length && size < budgetBytes; position += 1) {
          const key = keys[position] as string;
          const before = preImages.get(key);
          const value = before === undefined ? values.get(key) : before === ABSENT ? undefined : before;
          if (value === undefined) {
            continue; // unreachable: every frozen key had a value when frozen
          }
          const line = `${written > 0 ? "," : ""}\n${JSON.stringify([key, value])}`;
          written += 1;
          parts.push(line);
          size += line.length;
        }
        if (position === keys.length) {
          parts.push("\n]}");
          position += 1;
          this.#views.delete(preImages);
        }
        return encoder.encode(parts.join(""));
      },
    };
  }

  #keepPreImage(key: string): void {
    for (const preImages of this.#views) {
      if (!preImages.has(key)) {
        preImages.set(key, this.#values.get(key) ?? ABSENT);
      }
    }
  }

  restore(data: Uint8Array): void {
    this.#install(parseEntries(decodeSnapshot(data, KV_PLUGIN_NAME, SNAPSHOT_VERSION)));
  }

  /**
   * Reads beginSnapshot's line format record by record as slices arrive (issue 11, defect 3), into a
   * map swapped in at finish(). Bytes in snapshot()'s one-line format are kept and parsed at finish.
   */
  beginRestore(): SnapshotReader {
    const decoder = new TextDecoder("utf-8", { fatal: true });
    const values = new Map<string, string>();
    /** start: the first line is not complete yet; records: inside the state array; ended: after "]}"; whole: one-line format. */
    let mode: "start" | "records" | "ended" | "whole" = "start";
    /** Raw bytes while the format is unknown or one-line (parsed at finish). */
    let raw: Uint8Array[] = [];
    let pending = ""; // text after the last complete line
    let line = 0; // 1-based number of the line being read
    let moreRecords = false; // the last record ended with a comma
    const bad = (message: string): PluginError => new PluginError("BAD_SNAPSHOT", `kv snapshot: line ${line}: ${message}`);
    const readLine = (text: string): void => {
      line += 1;
      if (mode === "start") {
        if (text !== SLICED_HEAD) {
          mode = "whole";
          return;
        }
        mode = "records";
        raw = [];
        return;
      }
      if (mode === "ended") {
        throw bad("text after the closing ]}");
      }
      if (text === "]}") {
        if (moreRecords) {
          throw bad("]} after a trailing comma");
        }
        mode = "ended";
        return;
      }
      if (line > 2 && !moreRecords) {
        throw bad("a record after one without a trailing comma");
      }
      moreRecords = text.endsWith(",");
      let entry: unknown;
      try {
        entry = JSON.parse(moreRecords ? text.slice(0, -1) : text);
      } catch (error) {
        throw bad(`not JSON (${(error as Error).message})`);
      }
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== "string" || typeof entry[1] !== "string") {
        throw bad("must be a [key, value] pair of strings");
      }
      if (values.has(entry[0])) {
        throw bad(`repeats key ${JSON.stringify(entry[0])}`);
      }
      values.set(entry[0], entry[1]);
    };
    const readText = (text: string): void => {
      const lines = text.split("\n");
      const last = lines.pop() ?? "";
      if (lines.length === 0) {
        pending += last; // no line ended: split only new text, so a long line costs no rescans
      } else {
        lines[0] = pending + lines[0];
        pending = last;
      }
      for (const complete of lines) {
        if (mode === "whole") {
          return;
        }
        readLine(complete);
      }
      if (mode === "start" && pending.length > SLICED_HEAD.length) {
        mode = "whole"; // no newline after the head's length: snapshot()'s one-line format
      }
    };
    const decode = (bytes: Uint8Array | undefined): string => {
      try {
        return bytes === undefined ? decoder.decode() : decoder.decode(bytes, { stream: true });
      } catch {
        throw new PluginError("BAD_SNAPSHOT", `kv snapshot: bytes are not valid UTF-8`);
      }
    };
    return {
      push: (bytes: Uint8Array): void => {
        if (mode === "start" || mode === "whole") {
          raw.push(bytes);
        }
        if (mode !== "whole") {
          readText(decode(bytes));
        }
      },
      finish: (): void => {
        if (mode === "start" || mode === "whole") {
          this.restore(concat(raw));
          return;
        }
        readText(decode(undefined));
        if (pending !== "") {
          readLine(pending); // the last line ("]}") has no newline after it
        }
        if (mode !== "ended") {
          throw bad("the snapshot ends before the closing ]}");
        }
        this.#install(values);
      },
    };
  }

  /** Swapped in only once the whole snapshot checked out, so a bad one leaves the state as it was. */
  #install(values: Map<string, string>): void {
    // Views being written keep the old map, which nothing changes any more: they need no pre-images.
    this.#views.clear();
    this.#values = values;
  }
}

/** The first line of beginSnapshot's format. */
const SLICED_HEAD = `{"plugin":${JSON.stringify(KV_PLUGIN_NAME)},"version":${SNAPSHOT_VERSION},"state":[`;

function parseEntries(entries: Json): Map<string, string> {
  if (!Array.isArray(entries)) {
    throw new PluginError("BAD_SNAPSHOT", `kv snapshot: field "state" must be an array of [key, value] pairs`);
  }
  const values = new Map<string, string>();
  entries.forEach((entry, index) => {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== "string" || typeof entry[1] !== "string") {
      throw new PluginError("BAD_SNAPSHOT", `kv snapshot: state[${index}] must be a [key, value] pair of strings`);
    }
    if (values.has(entry[0])) {
      throw new PluginError("BAD_SNAPSHOT", `kv snapshot: state[${index}] repeats key ${JSON.stringify(entry[0])}`);
    }
    values.set(entry[0], entry[1]);
  });
  return values;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  chunks.reduce((offset, chunk) => (bytes.set(chunk, offset), offset + chunk.length), 0);
  return bytes;
}
