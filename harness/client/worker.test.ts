import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ClientOutcome } from "../../node/client/raft-client.js";
import type { Json, Operation, OperationSpec } from "../../plugins/api.js";
import { OperationGenerator } from "../generator/generator.js";
import { planFinalPhase } from "../generator/final-reads.js";
import { parseHistory } from "../../history/parse.js";
import { HistoryWriter } from "../../history/writer.js";
import { ClientPool } from "./client-pool.js";
import { ProcessIds, Worker, type OperationInvoker } from "./worker.js";

// A client stand-in that answers from a script of outcomes: the worker, not the client, is under test.
class ScriptedClient implements OperationInvoker {
  readonly calls: Operation[] = [];
  constructor(private readonly script: (op: Operation, call: number) => ClientOutcome | Error) {}
  async invoke(op: Operation): Promise<ClientOutcome> {
    this.calls.push(op);
    await Promise.resolve();
    const answer = this.script(op, this.calls.length - 1);
    if (answer instanceof Error) {
      throw answer;
    }
    return answer;
  }
  close(): void {}
}

// A linearizable in-memory queue behind the client interface, for the pool's phases. It answers
// on a later turn of the event loop, as a network client does.
class InMemoryQueueClient implements OperationInvoker {
  constructor(private readonly items: Json[]) {}
  async invoke(op: Operation): Promise<ClientOutcome> {
    await new Promise((resolve) => setImmediate(resolve));
    if (op.f === "enqueue") {
      this.items.push(op.value);
      return { type: "ok", value: null, node: 1 };
    }
    if (op.f === "dequeue") {
      return { type: "ok", value: this.items.shift() ?? null, node: 1 };
    }
    return { type: "ok", value: this.items.length, node: 1 };
  }
  close(): void {}
}

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "raftlab-worker-"));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const getOperation = { f: "get", key: "1", value: null, readOnly: true };

describe("Worker", () => {
  it("records invoke and completion, and takes a new process id after info only", async () => {
    const history = await HistoryWriter.open(join(directory, "history.jsonl"));
    const outcomes: (ClientOutcome | Error)[] = [
      { type: "ok", value: "v1", node: 2 },
      { type: "fail", error: { code: "NO_LEADER", message: "no leader answered" }, node: undefined },
      { type: "info", error: { code: "REQUEST_TIMEOUT", message: "REQUEST_TIMEOUT: no answer from node 3" }, node: 3 },
      new Error("socket exploded"),
      { type: "ok", value: null, node: 1 },
    ];
    const client = new ScriptedClient((_op, call) => outcomes[call] ?? new Error("script over"));
    const counts = { ok: 0, fail: 0, info: 0 };
    const worker = new Worker({ client, history, processIds: new ProcessIds(4), timeoutMs: 1_000, counts, hardStop: new AbortController().signal });
    const processes: number[] = [];
    for (let call = 0; call < outcomes.length; call += 1) {
      processes.push(worker.process);
      await worker.perform(getOperation);
    }
    await history.close();
    expect(processes).toEqual([4, 4, 4, 5, 6]);
    expect(counts).toEqual({ ok: 2, fail: 1, info: 2 });
    const completions = history.events.filter((event) => event.type !== "invoke").map(({ index: _index, time: _time, ...rest }) => rest);
    expect(completions).toEqual([
      { process: 4, f: "get", key: "1", type: "ok", value: "v1", node: "2" },
      { process: 4, f: "get", key: "1", type: "fail", value: null, error: "NO_LEADER: no leader answered" },
      { process: 4, f: "get", key: "1", type: "info", value: null, error: "REQUEST_TIMEOUT: no answer from node 3", node: "3" },
      { process: 5, f: "get", key: "1", type: "info", value: null, error: "ABORTED: socket exploded" },
      { process: 6, f: "get", key: "1", type: "ok", value: null, node: "1" },
    ]);
    // The parser enforces the format's rules, including "no invoke after info" per process.
    expect(parseHistory(await readFile(history.path, "utf8"), history.path).events).toHaveLength(10);
  });
});

describe("Worker with a read client", () => {
  it("sends read-only operations to the read client and the rest to the command client", async () => {
    const history = await HistoryWriter.open(join(directory, "history.jsonl"));
    const commands = new ScriptedClient(() => ({ type: "ok", value: null, node: 1 }));
    const reads = new ScriptedClient(() => ({ type: "ok", value: "v", node: 2 }));
    const counts = { ok: 0, fail: 0, info: 0 };
    const worker = new Worker({
      client: commands,
      readClient: reads,
      history,
      processIds: new ProcessIds(0),
      timeoutMs: 1_000,
      counts,
      hardStop: new AbortController().signal,
    });
    await worker.perform(getOperation);
    await worker.perform({ f: "put", key: "1", value: "v", readOnly: false });
    await history.close();
    expect(reads.calls.map((call) => call.f)).toEqual(["get"]);
    expect(commands.calls.map((call) => call.f)).toEqual(["put"]);
  });
});

describe("ClientPool", () => {
  const queueOperations: Record<string, OperationSpec> = {
    enqueue: { readOnly: false, keyed: false, argument: ({ unique }) => unique },
    dequeue: { readOnly: false, keyed: false, argument: () => null },
    size: { readOnly: true, keyed: false, argument: () => null },
  };

  it("runs the main phase until stopped, then reads and drains in the final phase", async () => {
    const history = await HistoryWriter.open(join(directory, "history.jsonl"));
    const items: Json[] = [];
    const pool = new ClientPool({
      concurrency: 4,
      createClients: () => ({ client: new InMemoryQueueClient(items) }),
      history,
      timeoutMs: 1_000,
      hardStop: new AbortController().signal,
    });
    const generator = new OperationGenerator({ operations: queueOperations, mix: { enqueue: 3, dequeue: 1 }, keys: 1, distribution: "uniform", seed: 9 });
    const stop = new AbortController();
    const main = pool.runMainPhase(generator, stop.signal, undefined);
    while (pool.counts.ok < 400) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    stop.abort();
    await main;
    expect(items.length).toBeGreaterThan(0);
    const report = await pool.runFinalPhase(planFinalPhase(generator, queueOperations, 1), generator, 30_000);
    await pool.close();
    await history.close();
    expect(report).toEqual({ readsOk: 1, readsPlanned: 1, drained: true });
    expect(items).toEqual([]);
    const parsed = parseHistory(await readFile(history.path, "utf8"), history.path);
    expect(new Set(parsed.events.map((event) => event.process))).toEqual(new Set([0, 1, 2, 3]));
    const last = parsed.events[parsed.events.length - 1];
    expect(last).toMatchObject({ type: "ok", f: "dequeue", value: null });
  });
});
