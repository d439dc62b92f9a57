// The command-line parsing that run and compare share: the flags both take, the exit codes for bad
// input (254) and --help (0), and the overrides both pass to the workload.
import { parseArgs, type ParseArgsConfig } from "node:util";

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig["options"]>;
import type { WorkloadOverrides } from "../harness/workload/overrides.js";

/** Flags of every command that runs a workload. */
export const workloadFlags = {
  runtime: { type: "string" },
  seeds: { type: "string" },
  out: { type: "string" },
  duration: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export type ParsedFlags<Options extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ options: Options; allowPositionals: true }>>;

/**
 * Parses `argv` strictly, then runs `check` (which throws on a bad combination). Returns the parsed
 * flags, or the exit code once it has printed the usage: 254 on bad input, 0 on --help.
 */
export function parseCommandLine<Options extends ParseArgsOptionsConfig>(
  command: string,
  usage: string,
  argv: string[],
  options: Options,
  check: (parsed: ParsedFlags<Options>) => void = () => {},
): ParsedFlags<Options> | number {
  let parsed: ParsedFlags<Options>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    check(parsed);
  } catch (error) {
    process.stderr.write(`raftlab ${command}: ${(error as Error).message}\n${usage}`);
    return 254;
  }
  if ((parsed.values as { help?: boolean }).help === true) {
    process.stdout.write(usage);
    return 0;
  }
  return parsed;
}

/** The workload overrides of the shared flags that were given. */
export function workloadOverrides(values: { runtime?: string | undefined; duration?: string | undefined }): WorkloadOverrides {
  return {
    ...(values.runtime === undefined ? {} : { runtime: values.runtime }),
    ...(values.duration === undefined ? {} : { duration: values.duration }),
  };
}
