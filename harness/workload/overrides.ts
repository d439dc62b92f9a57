// Command-line overrides of workload fields (--runtime, --seed, --duration), validated with the
// same rules as the file and reported against the flag.
import { WorkloadFileError, type WorkloadProblem } from "./errors.js";
import { durationProblem } from "./duration.js";
import { runtimeChoices, type RuntimeChoice, type WorkloadSpec } from "./schema.js";

export interface WorkloadOverrides {
  runtime?: string;
  seed?: string;
  duration?: string;
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
  if (problems.length > 0) {
    throw new WorkloadFileError("command line", problems);
  }
  return result;
}
