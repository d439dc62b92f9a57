// The nemesis catalogue: fault names as workloads spell them (harness/workload/schema.ts
// faultNames) mapped to fresh nemesis objects, and the network capability each fault needs.
import type { NetworkCapabilities, NetworkFaultKind, RuntimeName } from "../runtime/runtime.js";
import { durationMs } from "../workload/duration.js";
import { rateBitsPerSecond } from "../workload/rate.js";
import { faultNames, singleFaultsOf, type FaultName, type ResolvedFault, type ResolvedSingleFault } from "../workload/schema.js";
import { CompositeNemesis } from "./compound.js";
import { BandwidthNemesis } from "./bandwidth.js";
import { MembershipNemesis } from "./membership.js";
import { LatencyNemesis, LossNemesis } from "./packet-loss.js";
import { PARTITION_NAMES, PartitionNemesis, type PartitionName } from "./partition.js";
import { PROCESS_FAULT_NAMES, ProcessNemesis, type ProcessFaultName } from "./process.js";
import { NemesisError, type Nemesis } from "./nemesis.js";
import { TransferLeaderNemesis } from "./leadership.js";
import { DoubleVoteNemesis } from "./double-vote.js";
import { DeposedLeaderNemesis } from "./deposed-leader.js";
import { FigureEightNemesis } from "./figure-eight.js";
import { FailpointNemesis, PowerLossNemesis } from "./node-faults.js";
import type { FailpointName } from "../../node/protocol/failpoints.js";
import type { FaultTarget } from "../workload/schema.js";

/** A fault with numeric parameters. */
export type NemesisSpec =
  | { name: "loss"; probability: number }
  | { name: "latency"; delayMs: number; jitterMs: number }
  | { name: "bandwidth"; bitsPerSecond: number }
  | { name: "power-loss"; target: FaultTarget }
  | { name: "failpoint"; point: FailpointName; action: string; target: FaultTarget }
  | { name: "disk-stall"; delayMs: number; target: FaultTarget }
  | { name: Exclude<FaultName, "loss" | "latency" | "bandwidth" | "power-loss" | "failpoint" | "disk-stall"> };

export const NEMESIS_NAMES: readonly FaultName[] = faultNames;

/** A new nemesis for one fault. Each call gives an independent object (nemeses keep heal state). */
export function createNemesis(spec: NemesisSpec): Nemesis {
  switch (spec.name) {
    case "loss":
      return new LossNemesis(spec.probability);
    case "latency":
      return new LatencyNemesis(spec.delayMs, spec.jitterMs);
    case "bandwidth":
      return new BandwidthNemesis(spec.bitsPerSecond);
    case "transfer-leader":
      return new TransferLeaderNemesis();
    case "membership":
      return new MembershipNemesis();
    case "double-vote":
      return new DoubleVoteNemesis();
    case "figure-8":
      return new FigureEightNemesis();
    case "deposed-leader":
      return new DeposedLeaderNemesis();
    case "power-loss":
      return new PowerLossNemesis(spec.target);
    case "failpoint":
      return new FailpointNemesis("failpoint", [spec.point], spec.action, spec.target);
    case "disk-stall":
      return new FailpointNemesis("disk-stall", ["beforeWalWrite", "beforeFsync"], `sleep(${spec.delayMs}ms)`, spec.target);
    default:
      if ((PARTITION_NAMES as readonly string[]).includes(spec.name)) {
        return new PartitionNemesis(spec.name as PartitionName);
      }
      if ((PROCESS_FAULT_NAMES as readonly string[]).includes(spec.name)) {
        return new ProcessNemesis(spec.name as ProcessFaultName);
      }
      throw new NemesisError("UNKNOWN_FAULT", spec.name, `unknown fault; known: ${NEMESIS_NAMES.join(", ")}`);
  }
}

/**
 * The nemesis for a fault from a workload file (durations like "100ms" become numbers); a compound
 * fault becomes a CompositeNemesis of its members.
 */
export function nemesisFromFault(fault: ResolvedFault): Nemesis {
  return "members" in fault ? new CompositeNemesis(fault.members.map(nemesisFromSingleFault), durationMs(fault.spacing)) : nemesisFromSingleFault(fault);
}

function nemesisFromSingleFault(fault: ResolvedSingleFault): Nemesis {
  switch (fault.name) {
    case "loss":
      return createNemesis({ name: "loss", probability: fault.probability });
    case "latency":
      return createNemesis({ name: "latency", delayMs: durationMs(fault.delay), jitterMs: durationMs(fault.jitter) });
    case "bandwidth":
      return createNemesis({ name: "bandwidth", bitsPerSecond: rateBitsPerSecond(fault.rate) });
    case "power-loss":
      return createNemesis({ name: "power-loss", target: fault.nodes });
    case "failpoint":
      return createNemesis({ name: "failpoint", point: fault.point, action: fault.action, target: fault.nodes });
    case "disk-stall":
      return createNemesis({ name: "disk-stall", delayMs: durationMs(fault.delay), target: fault.nodes });
    default:
      return createNemesis({ name: fault.name });
  }
}

/**
 * Extra node flags a list of faults needs: power-loss runs nodes in the power-loss mode (then every
 * kill -9 of the run loses unsynced writes), failpoint, disk-stall and the scripted double-vote,
 * figure-8 and deposed-leader (which arm failpoints between their steps) open the failpoint control.
 */
export function nodeFlagsForFaults(faults: readonly ResolvedFault[]): string[] {
  const names = new Set(injectedFaultNames(faults));
  return [
    ...(names.has("power-loss") ? ["--simulate-power-loss"] : []),
    ...(names.has("failpoint") || names.has("disk-stall") || names.has("double-vote") || names.has("figure-8") || names.has("deposed-leader")
      ? ["--failpoints"]
      : []),
  ];
}

/** The single fault names a list of faults injects, a compound's members included. */
export function injectedFaultNames(faults: readonly ResolvedFault[]): string[] {
  return faults.flatMap((fault) => singleFaultsOf(fault).map((single) => single.name));
}

/**
 * The network capability each fault needs (runtime.ts NetworkCapabilities), or null for faults on
 * processes and membership, which every runtime can inject. Typed over every fault name, so a new
 * fault must say what it needs.
 */
const NETWORK_FAULT_OF: Record<FaultName, NetworkFaultKind | null> = {
  "power-loss": null,
  failpoint: null,
  "disk-stall": null,
  "partition-halves": "block",
  "partition-random-halves": "block",
  "partition-one": "block",
  "partition-leader": "block",
  "partition-majorities-ring": "block",
  "partition-bridge": "block",
  "partition-one-way": "block",
  loss: "loss",
  latency: "latency",
  bandwidth: "bandwidth",
  kill: null,
  "kill-leader": null,
  pause: null,
  "pause-leader": null,
  "pause-follower": null,
  "transfer-leader": null,
  membership: null,
  "double-vote": "block",
  "figure-8": "block",
  "deposed-leader": "block",
};

export interface UnsupportedFault {
  fault: string;
  /** Why not, as the runtime says it. */
  reason: string;
}

/**
 * The faults among `names` (each once) that `capabilities` says cannot be injected. A capability
 * left out (a runtime that cannot tell before its cluster runs) refuses nothing yet.
 */
export function unsupportedFaults(names: readonly string[], capabilities: Partial<NetworkCapabilities>): UnsupportedFault[] {
  const unsupported: UnsupportedFault[] = [];
  for (const fault of new Set(names)) {
    const kind = NETWORK_FAULT_OF[fault as FaultName] ?? null;
    const capability = kind === null ? true : capabilities[kind];
    if (typeof capability === "string") {
      unsupported.push({ fault, reason: capability });
    }
  }
  return unsupported;
}

/** The network capabilities that `names` need: what a run must ask a runtime about. */
export function networkFaultsNeeded(names: readonly string[]): NetworkFaultKind[] {
  const kinds = names.map((name) => NETWORK_FAULT_OF[name as FaultName] ?? null).filter((kind): kind is NetworkFaultKind => kind !== null);
  return [...new Set(kinds)];
}

/** Why a run is refused: the faults unsupportedFaults found, and the runtime's reasons. */
export function unsupportedFaultsMessage(runtime: RuntimeName, unsupported: readonly UnsupportedFault[]): string {
  const reasons = [...new Set(unsupported.map((item) => item.reason))];
  return `the ${runtime} runtime cannot inject ${unsupported.map((item) => item.fault).join(", ")} on this host: ${reasons.join("; ")}`;
}
