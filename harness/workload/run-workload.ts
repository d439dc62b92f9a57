// One run of a workload, Jepsen's `run!` in order: start the cluster, wait for a leader, drive the
// clients while the nemesis injects faults for `duration`, heal everything, let the clients run on
// for `final.recovery`, do the final reads, tear the cluster down, check, write the results.
import { basename, resolve } from "node:path";
import { writeFile } from "node:fs/promises";
import { customAlphabet } from "nanoid";
import { stringify } from "yaml";
import { RaftClient } from "../../node/client/raft-client.js";
import type { Plugin } from "../../plugins/api.js";
import { isPluginPath } from "../../plugins/registry.js";
import type { CheckResult } from "../../checker/linearizable.js";
import { renderReportHtml } from "../../checker/linearizability-html.js";
import { runChecks } from "../checks/compose.js";
import { checkReplicas, type ReplicasReport } from "../checks/replicas.js";
import { explainVerdict } from "../checks/explain.js";
import { pairOperations } from "../../history/operation-pairs.js";
import type { PerfReport } from "../checks/perf.js";
import { ClientPool, type FinalPhaseReport } from "../client/client-pool.js";
import { planFinalPhase } from "../generator/final-reads.js";
import { OperationGenerator } from "../generator/generator.js";
import { RateLimiter } from "../generator/rate-limiter.js";
import { SeededRng } from "../../lib/rng.js";
import type { HistoryEvent } from "../../history/event.js";
import type { ParsedHistory } from "../../history/parse.js";
import { HistoryWriter } from "../../history/writer.js";
import { NemesisSchedule, type NemesisScheduleEvent } from "../nemesis/schedule.js";
import { planFaultSteps } from "../nemesis/fault-plan.js";
import {
  injectedFaultNames,
  nemesisFromFault,
  networkFaultsNeeded,
  nodeFlagsForFaults,
  unsupportedFaults,
  unsupportedFaultsMessage,
} from "../nemesis/catalogue.js";
import { createNemesisContext } from "../nemesis/nemesis.js";
import type { ResultsFolder } from "../results/results-folder.js";
import { exitCodeFor, opsOf, type RunSummary } from "../results/summary.js";
import { writeRunResults } from "../results/write-results.js";
import { copyNodeData, discardNodeData, keepsNodeData } from "../results/node-data.js";
import { FaultUnsupportedError, type Cluster, type Runtime } from "../runtime/runtime.js";
import type { LoadedWorkload } from "./load.js";
import type { RunPlan } from "./plan.js";
import { ProgressReporter } from "./progress.js";
import type { WorkloadSpec } from "./schema.js";
import { deadlineAfter, sleep } from "../../lib/deadline.js";

export interface WorkloadRun {
  loaded: LoadedWorkload;
  /** The spec after command-line overrides. */
  spec: WorkloadSpec;
  plan: RunPlan;
  plugin: Plugin;
  runtime: Runtime;
  folder: ResultsFolder;
  /** Fires on SIGINT/SIGTERM: everything stops at once. */
  hardStop: AbortSignal;
  /** Progress and notes, one line each (stderr). */
  log: (line: string) => void;
  /** Told about the cluster as soon as it exists, so a signal handler can destroy it. */
  onCluster: (cluster: Cluster) => void;
}

export class ClusterUnavailableError extends Error {
  readonly code = "CLUSTER_UNAVAILABLE";
  override readonly name = "ClusterUnavailableError";
}

const leaderWaitMs = 30_000;
const healTimeoutMs = 60_000;
/** Final reads and the queue drain get at least this long, whatever the recovery period. */
const finalPhaseMinimumMs = 30_000;
/** Each replicas request (status, then a state hash once the node has applied the leader's commit index). */
const replicasTimeoutMs = 10_000;
const runIdAlphabet = customAlphabet("0123456789abcdefghijklmnopqrstuvwxyz", 10);

export async function runWorkload(run: WorkloadRun): Promise<RunSummary> {
  const { plan, plugin, folder, hardStop, log } = run;
  const started = new Date();
  const startedMs = performance.now();
  // Resolved: the seed drawn and the runtime chosen, so running this file again repeats the run.
  await writeFile(folder.workloadPath, stringify({ ...run.spec, runtime: run.runtime.name, seed: plan.seed }));
  const pluginArgument = isPluginPath(plan.plugin) ? resolve(plan.plugin) : plan.plugin;
  log(`starting ${plan.nodes} ${plugin.name} node(s) on the ${run.runtime.name} runtime`);
  const cluster = await run.runtime.createCluster(
    {
      runId: `${plan.name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .slice(0, 20)}-${runIdAlphabet()}`,
      nodeIds: Array.from({ length: plan.nodes }, (_, index) => index + 1),
      plugin: pluginArgument,
      unsafe: plan.unsafe,
      nodeFlags: [...plan.nodeFlags, ...nodeFlagsForFaults(plan.nemesis.faults)],
      logDir: folder.nodeLogDirectory,
    },
    hardStop,
  );
  run.onCluster(cluster);
  // History time 0 is when the cluster is up, so charts show the workload, not the start-up.
  const history = await HistoryWriter.open(folder.historyPath);
  const historyStarted = new Date();
  const rootRng = new SeededRng(plan.seed);
  const generator = new OperationGenerator({ operations: plugin.operations, ...plan.clients, seed: rootRng.nextUint32() });
  const nemesisClient = new RaftClient({ nodes: cluster.nodes, secret: cluster.secret, requestTimeoutMs: 2_000 });
  const pool = new ClientPool({
    concurrency: plan.clients.concurrency,
    createClients: (index) => ({
      // retries: false drops sessions: a command is then never resent, so doubt is recorded as info.
      client: new RaftClient({ nodes: cluster.nodes, secret: cluster.secret, requestTimeoutMs: plan.clients.timeoutMs, sessions: plan.clients.retries }),
      // Reads start at the worker's home node: workers spread over the nodes, as Jepsen's clients are.
      readClient: new RaftClient({ nodes: rotate(cluster.nodes, index), secret: cluster.secret, requestTimeoutMs: plan.clients.timeoutMs, sessions: false }),
    }),
    history,
    timeoutMs: plan.clients.timeoutMs,
    hardStop,
  });
  const plannedMs = plan.durationMs + plan.recoveryMs;
  const progress = new ProgressReporter(log, pool.counts, plannedMs);
  let final: FinalPhaseReport | null = null;
  let replicas: ReplicasReport | undefined;
  let nodeData: string[] = [];
  try {
    await refuseUnsupportedFaults(cluster, plan, hardStop);
    await waitForLeader(nemesisClient, hardStop);
    const schedule = new NemesisSchedule(cluster, createNemesisContext({ client: nemesisClient, rng: rootRng.fork() }), {
      nemeses: plan.nemesis.faults.map(nemesisFromFault),
      intervalMs: plan.nemesis.intervalMs,
      healTimeoutMs,
      // Same seed, same faults at the same times on the same nodes, whatever the plugin.
      plan: planFaultSteps({
        seed: plan.seed,
        faultCount: plan.nemesis.faults.length,
        intervalMs: plan.nemesis.intervalMs,
        durationMs: plan.durationMs,
      }),
      onEvent: (event: NemesisScheduleEvent) => {
        history.append({ process: "nemesis", ...event });
        progress.onNemesisEvent(event);
      },
    });
    progress.phase = "main";
    progress.start();
    const clientsStop = new AbortController();
    const limiter = plan.clients.rateOpsPerSecond === undefined ? undefined : new RateLimiter(plan.clients.rateOpsPerSecond);
    const clients = pool.runMainPhase(generator, clientsStop.signal, limiter);
    const mainDeadline = deadlineAfter(plan.durationMs, hardStop);
    // The heal's own deadline starts when the main phase ends: started together, a run of 60 s or
    // more would find it expired before healing began.
    let healDeadline: ReturnType<typeof deadlineAfter> | undefined;
    try {
      await schedule.run(mainDeadline.signal);
      progress.phase = "healing";
      healDeadline = deadlineAfter(healTimeoutMs, hardStop);
      await schedule.healAll(healDeadline.signal);
      progress.phase = "recovery";
      await sleep(plan.recoveryMs, hardStop);
    } finally {
      mainDeadline.dispose();
      healDeadline?.dispose();
      clientsStop.abort();
      await clients;
    }
    progress.phase = "final";
    const finalPlan = planFinalPhase(generator, plugin.operations, plan.clients.keys);
    final = await pool.runFinalPhase(finalPlan, generator, Math.max(finalPhaseMinimumMs, plan.recoveryMs));
    // Writes have stopped and every node is up: compare the replicas' state machines.
    log("comparing the replicas' state");
    replicas = await checkReplicas({ client: nemesisClient, nodeIds: cluster.nodes.map((node) => node.id), timeoutMs: replicasTimeoutMs, signal: hardStop });
  } finally {
    progress.stop();
    nemesisClient.close();
    await pool.close();
    await history.close();
    if (plan.keepData !== "never" && !hardStop.aborted) {
      // The verdict is not known yet: copy now, drop after the checks if the run needs no evidence.
      nodeData = await copyNodeData(cluster, folder.directory, log, hardStop);
    }
    log("destroying the cluster");
    await cluster.destroy();
  }
  const durationS = Math.round(performance.now() - startedMs) / 1_000;
  log(`checking ${history.events.length} history events`);
  const composed = await runChecks({
    events: history.events,
    plugin,
    logDirectory: folder.nodeLogDirectory,
    checkerTimeoutMs: plan.checkerTimeoutMs,
    configuredFaults: plan.nemesis.faults.length,
    historyStartedMs: historyStarted.getTime(),
    ...(replicas === undefined ? {} : { replicas }),
  });
  const summary: RunSummary = {
    name: plan.name,
    seed: plan.seed,
    runtime: run.runtime.name,
    plugin: plan.plugin,
    nodes: plan.nodes,
    started: started.toISOString(),
    history_started: historyStarted.toISOString(),
    duration_s: durationS,
    valid: composed.valid,
    checks: composed.checks,
    ops: opsOf(composed.checks),
    faults: (composed.checks["perf"] as Partial<PerfReport> | undefined)?.faults ?? [],
    workload_file: run.loaded.file,
    unsafe: plan.unsafe,
    final,
    exit_code: exitCodeFor(composed.valid),
  };
  if (!keepsNodeData(plan.keepData, composed.valid)) {
    await discardNodeData(folder.directory, nodeData);
    nodeData = [];
  }
  summary.node_data = nodeData;
  const explanation = explainVerdict({ ...composed, events: history.events, plugin, timeoutHint: "checker.timeout in the workload" });
  summary.explanation = explanation?.text ?? null;
  summary.caught_by = explanation?.check ?? null;
  summary.first_anomaly_s = explanation?.firstAnomalyS === undefined ? null : Math.round(explanation.firstAnomalyS * 1000) / 1000;
  const hasLinearizabilityReport =
    composed.linearizability !== undefined && (await writeLinearizabilityReport(folder, plugin, history.events, composed.linearizability, log));
  await writeRunResults({ folder, summary, pairs: pairOperations(history.events), hasLinearizabilityReport });
  return summary;
}

/** The checker's own view of the history (lanes per process, the linearization), beside report.html. */
async function writeLinearizabilityReport(
  folder: ResultsFolder,
  plugin: Plugin,
  events: HistoryEvent[],
  result: CheckResult,
  log: (line: string) => void,
): Promise<boolean> {
  try {
    // Event i is line i + 1 of history.jsonl: the writer puts one event per line, in order.
    const history: ParsedHistory = { file: basename(folder.historyPath), events, lines: events.map((_, index) => index + 1), invokesAfterInfo: 0 };
    await writeFile(folder.linearizabilityReportPath, renderReportHtml({ file: basename(folder.historyPath), plugin, history, result }));
    return true;
  } catch (error) {
    log(`could not write ${folder.linearizabilityReportPath}: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}

/**
 * Why the run must be refused before anything is created (no container, network or volume), or
 * undefined: the faults the runtime already knows it cannot inject (Runtime.networkCapabilities).
 * What it cannot tell yet, refuseUnsupportedFaults asks the cluster once the nodes run.
 */
export async function refusalBeforeCluster(runtime: Runtime, plan: RunPlan, signal?: AbortSignal): Promise<string | undefined> {
  const names = injectedFaultNames(plan.nemesis.faults);
  if (networkFaultsNeeded(names).length === 0) {
    return undefined; // process faults only: nothing to ask
  }
  const unsupported = unsupportedFaults(names, await runtime.networkCapabilities(signal));
  return unsupported.length > 0 ? unsupportedFaultsMessage(runtime.name, unsupported) : undefined;
}

/** Refuses, before any client runs, a fault this cluster's network cannot inject. */
async function refuseUnsupportedFaults(cluster: Cluster, plan: RunPlan, signal: AbortSignal): Promise<void> {
  const names = injectedFaultNames(plan.nemesis.faults);
  if (networkFaultsNeeded(names).length === 0) {
    return;
  }
  const unsupported = unsupportedFaults(names, await cluster.network.capabilities(signal));
  if (unsupported.length > 0) {
    throw new FaultUnsupportedError(unsupportedFaultsMessage(cluster.runtime, unsupported));
  }
}

async function waitForLeader(client: RaftClient, signal: AbortSignal): Promise<number> {
  const deadline = deadlineAfter(leaderWaitMs, signal);
  try {
    while (!deadline.signal.aborted) {
      const leader = await client.findLeader({ signal: deadline.signal, timeoutMs: 1_000 }).catch(() => undefined);
      if (leader !== undefined) {
        return leader;
      }
      await sleep(100, deadline.signal).catch(() => undefined);
    }
  } finally {
    deadline.dispose();
  }
  signal.throwIfAborted();
  throw new ClusterUnavailableError(`no node answered as leader within ${leaderWaitMs / 1_000} s of the cluster starting`);
}

/** The list starting at position `start` (mod its length), wrapping around. */
function rotate<T>(items: readonly T[], start: number): T[] {
  const offset = start % items.length;
  return [...items.slice(offset), ...items.slice(0, offset)];
}
