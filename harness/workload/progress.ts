// The live progress line on stderr, once a second: elapsed time, phase, outcome counts and the
// fault in force, so a human watching a run sees the cluster react to each fault.
import type { OutcomeCounts } from "../client/worker.js";
import { formatDuration } from "./duration.js";

export type RunPhase = "starting" | "main" | "healing" | "recovery" | "final" | "checking";

export class ProgressReporter {
  phase: RunPhase = "starting";
  /** The fault in force, or undefined when the cluster is healthy. */
  fault: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly startedMs = performance.now();

  constructor(
    private readonly write: (line: string) => void,
    private readonly counts: OutcomeCounts,
    private readonly plannedMs: number,
  ) {}

  /** Tracks the fault in force from the nemesis's events. */
  onNemesisEvent(event: { type: "invoke" | "info"; f: string }): void {
    if (event.f === "heal") {
      if (event.type === "info") {
        this.fault = undefined;
      }
    } else if (event.type === "invoke") {
      this.fault = event.f;
    }
  }

  start(intervalMs = 1_000): void {
    this.timer = setInterval(() => this.write(this.line()), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  line(): string {
    const elapsed = formatDuration(performance.now() - this.startedMs).padStart(6);
    const { ok, fail, info } = this.counts;
    return `[${elapsed} of ~${formatDuration(this.plannedMs)}] ${this.phase.padEnd(8)} ok ${ok} fail ${fail} info ${info} | fault: ${this.fault ?? "none"}`;
  }
}
