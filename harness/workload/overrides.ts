// Command-line overrides of workload fields (--runtime, --seed, --duration, --plugin, --nodes,
// --concurrency, --rate), validated with the same rules as the file and reported against the flag.
import { WorkloadFileError, type WorkloadProblem } from "./errors.js";
import { durationProblem } from "./duration.js";
import { workloadSchema, runtimeChoices, type RuntimeChoice, type WorkloadSpec } from "./schema.js";

export interface WorkloadOverrides {
  runtime?: string;
  seed?: string;
  duration?: string;
  /** A built-in plugin name or a path; the workload's mix is kept only if the plugin has its operations (plan.ts). */
  plugin?: string;
  nodes?: string;
  /** A number or "<k>n". */
  concurrency?: string;
  /** Total operations per second. */
  rate?: string;
  /** false (--no-retries): clients.retries: false. */
  retries?: false;
}

/** The spec with the overrides applied; throws WorkloadFileError naming the flag at fault. */
export function applyOverrides(spec: WorkloadSpec, overrides: WorkloadOverrides): WorkloadSpec {
  const problems: WorkloadProblem[] = [];
  const result: WorkloadSpec = { ...spec };
  if (overrides.runtime !== undefined) {
    if ((runtimeChoices as readonly string[]).includes(overrides.runtime)) {
      result.runtime = overrides.runtime as RuntimeChoice;
    } else {
      problems.push({ field: "--runtime", message: `unknown runtime "${overrides.runtime}"; known: ${runtimeChoices.join(", ")}` });
    }
  }
  if (overrides.seed !== undefined) {
    const seed = Number(overrides.seed);
    if (/^\d+$/.test(overrides.seed) && Number.isSafeInteger(seed)) {
      result.seed = seed;
    } else {
      problems.push({ field: "--seed", message: `expected a non-negative integer, got "${overrides.seed}"` });
    }
  }
  if (overrides.duration !== undefined) {
    const problem = durationProblem(overrides.duration, { zero: false });
    if (problem !== undefined) {
      problems.push({ field: "--duration", message: problem });
    } else {
      result.duration = overrides.duration;
    }
  }
  if (overrides.plugin !== undefined) {
    if (overrides.plugin.trim() === "") {
      problems.push({ field: "--plugin", message: "expected a plugin name or a path to a plugin module" });
    } else {
      result.plugin = overrides.plugin;
    }
  }
  const clientShape = workloadSchema.shape.clients.unwrap().shape;
  const checked = <T>(
    flag: string,
    text: string | undefined,
    parse: (value: unknown) => { success: boolean; data?: T; error?: { issues: { message: string }[] } },
    value: unknown,
  ): T | undefined => {
    if (text === undefined) {
      return undefined;
    }
    const outcome = parse(value);
    if (!outcome.success) {
      problems.push({ field: flag, message: `${outcome.error?.issues[0]?.message ?? "invalid"} (got "${text}")` });
      return undefined;
    }
    return outcome.data;
  };
  const numeric = (text: string | undefined): unknown => (text !== undefined && /^\d+(\.\d+)?$/.test(text) ? Number(text) : text);
  const nodes = checked("--nodes", overrides.nodes, (value) => workloadSchema.shape.nodes.unwrap().safeParse(value), numeric(overrides.nodes));
  if (nodes !== undefined) {
    result.nodes = nodes;
  }
  const concurrency = checked(
    "--concurrency",
    overrides.concurrency,
    (value) => clientShape.concurrency.unwrap().safeParse(value),
    numeric(overrides.concurrency),
  );
  const rate = checked("--rate", overrides.rate, (value) => clientShape.rate.unwrap().safeParse(value), numeric(overrides.rate));
  if (concurrency !== undefined || rate !== undefined) {
    result.clients = { ...result.clients, ...(concurrency === undefined ? {} : { concurrency }), ...(rate === undefined ? {} : { rate }) };
  }
  if (overrides.retries === false) {
    result.clients = { ...result.clients, retries: false };
  }
  if (problems.length > 0) {
    throw new WorkloadFileError("command line", problems);
  }
  return result;
}
