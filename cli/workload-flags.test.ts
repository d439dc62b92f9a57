import { afterEach, describe, expect, it, vi } from "vitest";
import { parseCommandLine, workloadFlags, workloadOverrides } from "./workload-flags.js";

describe("parseCommandLine", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("returns the flags and positionals of a good command line", () => {
    const parsed = parseCommandLine("run", "usage\n", ["w.yaml", "--runtime", "local", "--duration", "5s"], workloadFlags);
    expect(parsed).toEqual(expect.objectContaining({ positionals: ["w.yaml"], values: { runtime: "local", duration: "5s" } }));
  });

  it("exits 254 naming the command and the problem, then prints the usage", () => {
    const stderr = vi.spyOn(process.stderr, "write").mockReturnValue(true);
    const check = (): void => {
      throw new Error("give --seed or --seeds, not both");
    };
    expect(parseCommandLine("run", "usage: raftlab run\n", [], workloadFlags, check)).toBe(254);
    expect(stderr).toHaveBeenCalledWith("raftlab run: give --seed or --seeds, not both\nusage: raftlab run\n");
    expect(parseCommandLine("compare", "usage\n", ["--bogus"], workloadFlags)).toBe(254);
    expect(String(stderr.mock.calls[1]?.[0])).toMatch(/^raftlab compare: Unknown option '--bogus'/);
  });

  it("prints the usage to stdout and exits 0 on --help", () => {
    const stdout = vi.spyOn(process.stdout, "write").mockReturnValue(true);
    expect(parseCommandLine("compare", "usage: raftlab compare\n", ["-h"], workloadFlags)).toBe(0);
    expect(stdout).toHaveBeenCalledWith("usage: raftlab compare\n");
  });
});

describe("workloadOverrides", () => {
  it("passes only the shared flags that were given", () => {
    expect(workloadOverrides({ runtime: "docker", duration: undefined })).toEqual({ runtime: "docker" });
    expect(workloadOverrides({})).toEqual({});
  });
});
