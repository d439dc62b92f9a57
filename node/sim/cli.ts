// npm run sim -- --seed N [--nodes 5] [--steps 200000]      one seed; exit 1 on a violation
// npm run sim -- --seeds 500 [--from K] [--random] [--budget-s 60] [--steps 20000] [--nodes N]
import { performance } from "node:perf_hooks";
import { runSeed, type RunResult } from "./swarm.js";

interface CliArgs {
  seed?: number;
  seeds?: number;
  from: number;
  random: boolean;
  nodes?: number;
  steps?: number;
  budgetSeconds?: number;
}

class CliUsageError extends Error {
  readonly code = "SIM_USAGE";
}

function parseArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = { from: 1, random: false };
  const numberAfter = (i: number, flag: string): number => {
    const value = Number(argv[i + 1]);
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new CliUsageError(`sim: ${flag} needs a non-negative integer, got ${JSON.stringify(argv[i + 1])}`);
    }
    return value;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    switch (flag) {
      case "--seed":
        args.seed = numberAfter(i++, flag);
        break;
      case "--seeds":
        args.seeds = numberAfter(i++, flag);
        break;
      case "--from":
        args.from = numberAfter(i++, flag);
        break;
      case "--nodes":
        args.nodes = numberAfter(i++, flag);
        break;
      case "--steps":
        args.steps = numberAfter(i++, flag);
        break;
      case "--budget-s":
        args.budgetSeconds = numberAfter(i++, flag);
        break;
      case "--random":
        args.random = true;
        break;
      default:
        throw new CliUsageError(
          `sim: unknown argument ${JSON.stringify(flag)}; use --seed N | --seeds N [--from K] [--random] [--budget-s S] [--steps N] [--nodes N]`,
        );
    }
  }
  if (args.seed === undefined && args.seeds === undefined) {
    throw new CliUsageError("sim: pass --seed N or --seeds N");
  }
  return args;
}

function describeOptions(result: RunResult): string {
  const o = result.options;
  return `nodes=${o.nodes} preVote=${o.preVote} checkQuorum=${o.checkQuorum} drop=${o.dropRate} dup=${o.duplicateRate} latency<=${o.latencyMax} partitions=${o.partitionMode} crash=${o.crashRate} tornWrite=${o.crashDuringWriteRate} snapshotEvery=${o.snapshotEvery} inflight=${o.maxInflightMessages} depth=${o.pipelineDepth} diskStall=${o.diskStallRate}/${o.diskStallUnits} loopStall=${o.loopStallRate}/${o.loopStallUnits} hold=${o.holdRate}/${o.holdUnits}`;
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  if (args.seed !== undefined && args.seeds === undefined) {
    const started = performance.now();
    const result = runSeed({ seed: args.seed, nodes: args.nodes, steps: args.steps ?? 200_000 });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (result.ok) {
      console.log(
        `seed ${result.seed}: ok, ${result.steps} steps, committed ${result.committed}, liveness in ${result.livenessTicks} ticks, ${seconds}s (${describeOptions(result)})`,
      );
      return 0;
    }
    console.log(`seed ${result.seed}: FAILED ${result.property}: ${result.message}`);
    console.log(`options: ${describeOptions(result)}`);
    console.log("nodes at the end:");
    for (const line of result.nodeStatus) {
      console.log(`  ${line}`);
    }
    console.log(`last ${result.lastEvents.length} events:`);
    for (const line of result.lastEvents) {
      console.log(`  ${line}`);
    }
    console.log(
      `replay: npm run sim -- --seed ${result.seed}${args.nodes === undefined ? "" : ` --nodes ${args.nodes}`}${args.steps === undefined ? "" : ` --steps ${args.steps}`}`,
    );
    return 1;
  }
  const count = args.seeds ?? 1;
  const steps = args.steps ?? 20_000;
  const started = performance.now();
  const deadline = args.budgetSeconds === undefined ? Infinity : started + args.budgetSeconds * 1000;
  let passed = 0;
  let failed = 0;
  let totalSteps = 0;
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    const seed = args.random ? Math.floor(Math.random() * 2 ** 31) : args.from + i;
    if (args.random) {
      console.log(`seed ${seed}`);
    }
    const result = runSeed({ seed, nodes: args.nodes, steps });
    totalSteps += result.steps;
    if (result.ok) {
      passed++;
    } else {
      failed++;
      console.log(
        `seed ${seed}: FAILED ${result.property}: ${(result.message ?? "").split("\n")[0]} (replay: npm run sim -- --seed ${seed} --steps ${steps}${args.nodes === undefined ? "" : ` --nodes ${args.nodes}`})`,
      );
    }
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${passed + failed} seeds: ${passed} passed, ${failed} failed, ${totalSteps} steps in ${seconds.toFixed(1)}s (${Math.round(totalSteps / seconds)} steps/s)`,
  );
  return failed === 0 ? 0 : 1;
}

try {
  process.exitCode = main();
} catch (error) {
  if (error instanceof CliUsageError) {
    console.error(error.message);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
