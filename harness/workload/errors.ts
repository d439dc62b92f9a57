// Operating errors about a workload: bad YAML, a bad field, a bad command-line override.

/** One problem in a workload, located as precisely as the input allows. */
export interface WorkloadProblem {
  /** 1-based line in the file, when the problem is in a file. */
  line?: number;
  /** Field path like "nemesis.faults[2]", or a flag like "--seed"; empty for the whole document. */
  field: string;
  message: string;
}

export class WorkloadFileError extends Error {
  readonly code = "WORKLOAD_INVALID";
  override readonly name = "WorkloadFileError";
  constructor(
    /** The file at fault, or a description like "command line". */
    readonly file: string,
    readonly problems: readonly WorkloadProblem[],
  ) {
    super(problems.map((problem) => formatProblem(file, problem)).join("\n"));
  }
}

/** "workloads/x.yaml:7: nemesis.faults[2]: unknown fault ..." */
export function formatProblem(file: string, problem: WorkloadProblem): string {
  const where = problem.line === undefined ? file : `${file}:${problem.line}`;
  return problem.field === "" ? `${where}: ${problem.message}` : `${where}: ${problem.field}: ${problem.message}`;
}
