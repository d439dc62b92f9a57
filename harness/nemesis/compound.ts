// A compound fault, Jepsen's nemesis composition: several nemeses injected in order within one step
// and healed in reverse order, so that faults can overlap (a node cut off, then the leader killed).
// The history gets one record for the whole step, listing the members' records.
import type { Json } from "../../plugins/api.js";
import type { Cluster } from "../runtime/runtime.js";
import type { FaultRecord, Nemesis, NemesisContext } from "./nemesis.js";
import { sleep } from "../../lib/deadline.js";

/** A member failed: carries its error code, so the history says why, and what was injected before it. */
export class CompositeFaultError extends Error {
  override readonly name = "CompositeFaultError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class CompositeNemesis implements Nemesis {
  readonly name: string;
  readonly needsHeal: boolean;

  constructor(
    readonly members: readonly Nemesis[],
    /** Wait between one member's injection and the next (lets a fault take effect, e.g. a cut-off node fall behind). */
    readonly spacingMs = 0,
  ) {
    if (members.length === 0) {
      throw new RangeError("a compound fault needs at least one member");
    }
    this.name = members.map((member) => member.name).join("+");
    this.needsHeal = members.some((member) => member.needsHeal !== false);
  }

  /** Invokes the members in order; a member that fails stops the rest (the scheduler then heals). */
  async invoke(cluster: Cluster, context: NemesisContext, signal?: AbortSignal): Promise<FaultRecord> {
    const records: Json[] = [];
    for (const [index, member] of this.members.entries()) {
      if (index > 0 && this.spacingMs > 0) {
        await sleep(this.spacingMs, signal);
      }
      try {
        const record = await member.invoke(cluster, context, signal);
        records.push({ f: record.f, value: record.value });
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        const injected = records.length === 0 ? "nothing injected before it" : `after ${JSON.stringify(records)}`;
        throw new CompositeFaultError(
          typeof code === "string" ? code : "ERROR",
          `${this.name}: member ${member.name} failed (${injected}): ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    return { f: this.name, value: { members: records } };
  }

  /**
   * Heals every member in reverse order, including one whose invoke failed half-way (each heal
   * undoes only what its nemesis did). A failing heal does not stop the others; the first failure
   * is rethrown once all were tried. Undefined when no member had anything to undo.
   */
  async heal(cluster: Cluster, signal?: AbortSignal): Promise<FaultRecord | undefined> {
    const records: Json[] = [];
    const failures: unknown[] = [];
    for (const member of [...this.members].reverse()) {
      if (member.needsHeal === false) {
        continue;
      }
      try {
        const record = await member.heal(cluster, signal);
        if (record !== undefined) {
          records.push(record.value);
        }
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) {
      const [first] = failures;
      throw first instanceof Error ? first : new Error(String(first));
    }
    return records.length === 0 ? undefined : { f: "heal", value: { fault: this.name, members: records } };
  }
}
