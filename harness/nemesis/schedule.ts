// The nemesis schedule: every interval, pick one fault from the configured list (seeded), inject it,
// let it last, heal it. Each step is reported as a nemesis event for the history, Jepsen style:
//   {type: "invoke", f: "<fault>", value: null}      just before the fault is injected
//   {type: "info",   f: "<fault>", value: <record>}  once it is in place (or {error, message}, with
//                                                   cancelled: true when the run's end cut it off)
//   {type: "invoke", f: "heal",    value: "<fault>"} just before healing
//   {type: "info",   f: "heal",    value: <record>}  once healed (or {fault, error, message})
// The recorder stamps time and index. Only one fault is active at a time, so heals never overlap.
import type { Json } from "../../plugins/api.js";
import type { Cluster } from "../runtime/runtime.js";
import type { Nemesis, NemesisContext } from "./nemesis.js";
import { deadlineAfter, sleep } from "../../lib/deadline.js";
import { SeededRng } from "../../lib/rng.js";
import type { FaultStep } from "./fault-plan.js";

/** A nemesis event without the recorder's time and index (see harness/history/event.ts NemesisEvent). */
export interface NemesisScheduleEvent {
  type: "invoke" | "info";
  f: string;
  value: Json;
}

export interface NemesisScheduleOptions {
  nemeses: readonly Nemesis[];
  /** Quiet time before each fault. */
  intervalMs: number;
  /** How long each fault lasts before it is healed (default: intervalMs). */
  faultDurationMs?: number;
  /** Limit for each heal, which runs even after the schedule's signal fired (default 60 s). */
  healTimeoutMs?: number;
  /**
   * A fault plan (fault-plan.ts): each step injects `nemeses[step.fault]` at its planned time with
   * its own seeded choices, so the schedule does not depend on what the cluster did before. Without
   * one, faults are picked from the context's generator, one interval after the previous heal.
   */
  plan?: readonly FaultStep[];
  onEvent(event: NemesisScheduleEvent): void;
}

export interface NemesisScheduleSummary {
  /** Faults injected (attempted). */
  faults: number;
  /** Invokes or heals that threw. */
  errors: number;
}

export class NemesisSchedule {
  readonly #cluster: Cluster;
  readonly #context: NemesisContext;
  readonly #options: NemesisScheduleOptions;
  #running = false;

  constructor(cluster: Cluster, context: NemesisContext, options: NemesisScheduleOptions) {
    if (!(options.intervalMs > 0)) {
      throw new RangeError(`nemesis schedule: intervalMs must be positive, got ${options.intervalMs}`);
    }
    this.#cluster = cluster;
    this.#context = context;
    this.#options = options;
  }

  /**
   * Runs until `signal` fires, then heals the active fault and resolves. With no nemeses it just
   * waits for the signal. Never rejects for fault errors: they become info events.
   */
  async run(signal: AbortSignal): Promise<NemesisScheduleSummary> {
    if (this.#running) {
      throw new Error("invariant: a nemesis schedule runs once at a time");
    }
    this.#running = true;
    const summary: NemesisScheduleSummary = { faults: 0, errors: 0 };
    if (this.#options.plan !== undefined) {
      try {
        await this.#runPlan(this.#options.plan, signal, summary);
      } finally {
        this.#running = false;
      }
      return summary;
    }
    const { nemeses, intervalMs } = this.#options;
    const faultDurationMs = this.#options.faultDurationMs ?? intervalMs;
    try {
      while (!signal.aborted) {
        await pause(intervalMs, signal);
        if (signal.aborted || nemeses.length === 0) {
          continue;
        }
        const nemesis = this.#context.rng.pick(nemeses);
        summary.faults += 1;
        if (!(await this.#invoke(nemesis, signal))) {
          summary.errors += 1;
        }
        await pause(faultDurationMs, signal);
        if (!(await this.#heal(nemesis))) {
          summary.errors += 1;
        }
      }
    } finally {
      this.#running = false;
    }
    return summary;
  }

  /**
   * Each step at its planned time (or at once, when the previous heal ran late), healed once it has
   * been in force for its planned duration.
   */
  async #runPlan(plan: readonly FaultStep[], signal: AbortSignal, summary: NemesisScheduleSummary): Promise<void> {
    const startedMs = performance.now();
    const until = (atMs: number): Promise<void> => pause(startedMs + atMs - performance.now(), signal);
    for (const step of plan) {
      const nemesis = this.#options.nemeses[step.fault];
      if (nemesis === undefined) {
        throw new RangeError(`fault plan step ${step.step}: no fault ${step.fault} among ${this.#options.nemeses.length}`);
      }
      await until(step.startMs);
      if (signal.aborted) {
        return;
      }
      summary.faults += 1;
      const context: NemesisContext = { ...this.#context, rng: new SeededRng(step.seed) };
      if (!(await this.#invoke(nemesis, signal, context))) {
        summary.errors += 1;
      }
      // A fault is in force for its planned duration once its invoke returns: on Docker, putting a
      // partition in place can take most of a short fault's window (hundreds of ms of docker exec).
      const inForceFromMs = performance.now() - startedMs;
      await until(Math.max(step.healMs, inForceFromMs + (step.healMs - step.startMs)));
      if (!(await this.#heal(nemesis))) {
        summary.errors += 1;
      }
    }
    // The plan is done: wait for the end of the main phase like the unplanned schedule does.
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })));
  }

  /**
   * Heals every nemesis of the schedule (each undoes only what it did) and the whole network. A
   * safety net after run(), which already healed its last fault: events are recorded only for
   * nemeses that had something left to undo (their invoke event then follows the heal itself).
   */
  async healAll(signal?: AbortSignal): Promise<void> {
    for (const nemesis of this.#options.nemeses) {
      await this.#heal(nemesis, signal, "only-if-healed");
    }
    await this.#cluster.network.heal(signal);
  }

  async #invoke(nemesis: Nemesis, signal: AbortSignal, context: NemesisContext = this.#context): Promise<boolean> {
    this.#options.onEvent({ type: "invoke", f: nemesis.name, value: null });
    try {
      const record = await nemesis.invoke(this.#cluster, context, signal);
      this.#options.onEvent({ type: "info", f: record.f, value: record.value });
      return true;
    } catch (error) {
      // Cut off by the end of the main phase (the signal), the fault was not refused by the
      // cluster: it is marked cancelled, so the nemesis check does not call it never injected.
      const cancelled = signal.aborted;
      this.#context.log.warn(cancelled ? "nemesis: the main phase ended while a fault was being injected" : "nemesis: fault could not be injected", {
        nemesis: nemesis.name,
        error: describe(error),
      });
      this.#options.onEvent({ type: "info", f: nemesis.name, value: cancelled ? { ...errorValue(error), cancelled: true } : errorValue(error) });
      return false;
    }
  }

  async #heal(nemesis: Nemesis, signal?: AbortSignal, record: "always" | "only-if-healed" = "always"): Promise<boolean> {
    if (nemesis.needsHeal === false) {
      return true;
    }
    // A heal must run even after the schedule was told to stop, so it gets its own limit.
    // (Not AbortSignal.any with AbortSignal.timeout: on Node 20 the timeout can be collected unfired.)
    const limit = deadlineAfter(this.#options.healTimeoutMs ?? 60_000, ...(signal === undefined ? [] : [signal]));
    const announce = (): void => this.#options.onEvent({ type: "invoke", f: "heal", value: nemesis.name });
    if (record === "always") {
      announce();
    }
    try {
      const healed = await nemesis.heal(this.#cluster, limit.signal);
      if (record === "only-if-healed") {
        if (healed === undefined) {
          return true;
        }
        announce();
      }
      this.#options.onEvent({ type: "info", f: "heal", value: healed?.value ?? { fault: nemesis.name, nothing: "to heal" } });
      return true;
    } catch (error) {
      if (record === "only-if-healed") {
        announce();
      }
      this.#context.log.warn("nemesis: heal failed", { nemesis: nemesis.name, error: describe(error) });
      this.#options.onEvent({ type: "info", f: "heal", value: { fault: nemesis.name, ...errorValue(error) } });
      return false;
    } finally {
      limit.dispose();
    }
  }
}

/** Waits `ms` or until `signal` fires, whichever is first; never rejects. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, signal).catch(() => undefined);
}

function errorValue(error: unknown): { [key: string]: Json } {
  const code = (error as { code?: unknown }).code;
  return { error: typeof code === "string" ? code : "ERROR", message: describe(error) };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
