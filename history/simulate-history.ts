// Generates a linearizable history by simulating concurrent clients against a real sequential
// state machine: each operation takes effect at one instant between its invoke and completion,
// so the history is linearizable by construction. Used by differential tests and the checker
// benchmark; deterministic for a given random source.
import type { Json, Plugin } from "../plugins/api.js";
import type { ClientEvent } from "./event.js";
import { assert } from "../lib/assert.js";

export interface SimulationOptions {
  clientCount: number;
  operationCount: number;
  /** Keys for keyed operations; ignored by operations that take none. */
  keys: readonly string[];
  /** Probability that a completion is `info` (the op may or may not take effect). */
  infoProbability: number;
  /** Probability that a completion is `fail` (the op did not take effect). */
  failProbability: number;
  /** A seeded source of floats in [0, 1). */
  random: () => number;
  /** Operation names to draw from; default all of the plugin's. */
  operationNames?: readonly string[];
}

interface PendingCall {
  process: number;
  f: string;
  key: string | null;
  argument: Json;
  /** How the call will complete, drawn at invoke time so the fractions match the options. */
  fate: "ok" | "fail" | "info";
  /** The result once the operation took effect. */
  result: { value: Json } | null;
}

const timeStepNs = 1000;

export function simulateHistory(plugin: Plugin, options: SimulationOptions): ClientEvent[] {
  const { random } = options;
  assert(options.clientCount >= 1, "simulateHistory needs at least one client");
  const machine = plugin.createStateMachine();
  const names = options.operationNames ?? Object.keys(plugin.operations);
  assert(names.length > 0, "simulateHistory needs at least one operation");
  const events: ClientEvent[] = [];
  const clients: (PendingCall | null)[] = new Array<PendingCall | null>(options.clientCount).fill(null);
  const processOfClient = clients.map((_, client) => client);
  let nextProcess = options.clientCount;
  // Calls that completed as `info` without taking effect: they may still take effect later.
  const inFlight: PendingCall[] = [];
  let invoked = 0;
  let busy = 0;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const emit = (event: Omit<ClientEvent, "index" | "time">): void => {
    const index = events.length;
    events.push({ ...event, index, time: index * timeStepNs });
  };
  const apply = (call: PendingCall): Json =>
    machine.apply(call.key === null ? { f: call.f, value: call.argument } : { f: call.f, key: call.key, value: call.argument });

  while (invoked < options.operationCount || busy > 0) {
    if (inFlight.length > 0 && random() < 0.05) {
      const call = inFlight.splice(Math.floor(random() * inFlight.length), 1)[0] as PendingCall;
      apply(call);
    }
    const client = Math.floor(random() * options.clientCount);
    const call = clients[client] ?? null;
    const process = processOfClient[client] as number;
    if (call === null) {
      if (invoked >= options.operationCount) {
        continue;
      }
      const f = pick(names);
      const spec = plugin.operations[f];
      assert(spec !== undefined, `plugin ${plugin.name} has operation ${f}`);
      const key = spec.keyed ? pick(options.keys) : null;
      const argument = spec.argument({ key, unique: invoked, random });
      const fateRoll = random();
      const fate = fateRoll < options.infoProbability ? "info" : fateRoll < options.infoProbability + options.failProbability ? "fail" : "ok";
      clients[client] = { process, f, key, argument, fate, result: null };
      emit({ process, type: "invoke", f, key, value: argument });
      invoked += 1;
      busy += 1;
      continue;
    }
    // Each step either lets the call take effect or completes it.
    if (call.fate !== "fail" && call.result === null && random() < 0.5) {
      call.result = { value: apply(call) };
      continue;
    }
    if (call.fate === "ok") {
      if (call.result === null) {
        continue;
      }
      emit({ process, type: "ok", f: call.f, key: call.key, value: call.result.value });
    } else if (call.fate === "fail") {
      emit({ process, type: "fail", f: call.f, key: call.key, value: call.argument });
    } else {
      if (call.result === null) {
        inFlight.push(call);
      }
      emit({ process, type: "info", f: call.f, key: call.key, value: call.argument });
      // After an info the client takes a new process id: the old operation may still be running.
      processOfClient[client] = nextProcess;
      nextProcess += 1;
    }
    clients[client] = null;
    busy -= 1;
  }
  return events;
}
