// The nemesis catalogue: fault names as workloads spell them (harness/workload/schema.ts
// faultNames) mapped to fresh nemesis objects, and which runtime cannot inject which fault.
import { netemMissingMessage } from "../runtime/docker/network.js";
import type { RuntimeName } from "../runtime/runtime.js";
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
  return "members" in fault
    ? new CompositeNemesis(fault.members.map(nemesisFromSingleFault), durationMs(fault.spacing))
    : nemesisFromSingleFault(fault);
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
 * kill -9 of the run loses unsynced writes), failpoint and disk-stall open the failpoint control.
 */
export function nodeFlagsForFaults(faults: readonly ResolvedFault[]): string[] {
  const names = new Set(injectedFaultNames(faults));
  return [
    ...(names.has("power-loss") ? ["--simulate-power-loss"] : []),
    ...(names.has("failpoint") || names.has("disk-stall") ? ["--failpoints"] : []),
  ];
}

/** The single fault names a list of faults injects, a compound's members included. */
export function injectedFaultNames(faults: readonly ResolvedFault[]): string[] {
  return faults.flatMap((fault) => singleFaultsOf(fault).map((single) => single.name));
}

/**
 * Faults a runtime cannot inject, so the run command can refuse a workload before it starts a
 * cluster. Docker delays traffic with the netem qdisc, which not every kernel has (this CI host does
 * not): pass what the host offers (from probeHostNetem in docker-host-netem.ts, or
 * DockerNetworkControl.netemAvailable inside a node). Bandwidth uses tbf, which kernels build in
 * far more widely; the swarm runtime uses the same rules inside each task. The local runtime's proxies do everything in userland and support every fault.
 */
export function faultsUnsupportedBy(runtime: RuntimeName, names: readonly string[], host: { netem: boolean }): string[] {
  const unsupported = new Set<string>();
  if (runtime !== "local" && !host.netem) {
    unsupported.add("latency");
  }
  return [...new Set(names.filter((name) => unsupported.has(name)))];
}

/** Why a run is refused: the faults faultsUnsupportedBy found, and what to do instead. */
export function unsupportedFaultsMessage(runtime: RuntimeName, unsupported: readonly string[]): string {
  return (
    `the ${runtime} runtime cannot inject ${unsupported.join(", ")} on this host: ${netemMissingMessage}. ` +
    `Use --runtime local (its proxies delay traffic in userland) or a host with netem.`
  );
}
