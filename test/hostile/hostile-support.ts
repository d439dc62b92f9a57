// Shared by the hostile-input tests: a private TMPDIR per test (so that "nothing left behind" can be
// asserted exactly, whatever other runs on the machine do), and the shape of a clean refusal.
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, expect } from "vitest";
import { findLocalNodeProcesses } from "../../harness/runtime/local/leftovers.js";
import { interruptRuns, requireBuiltCli, type CliRun } from "../support/run-cli.js";

export interface Sandbox {
  /** Holds the test's input files. */
  inputs: string;
  /** The TMPDIR of every process the test starts: it must be empty again at the end. */
  temporary: string;
  env: NodeJS.ProcessEnv;
  file(name: string, content: string | Buffer): Promise<string>;
  /** Asserts that no node process of this sandbox runs and that its TMPDIR is empty, then removes it. */
  assertNothingLeftAndRemove(): Promise<void>;
}

export async function createSandbox(): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), "hostile-"));
  const inputs = join(root, "inputs");
  const temporary = join(root, "tmp");
  await Promise.all([mkdir(inputs), mkdir(temporary)]);
  return {
    inputs,
    temporary,
    env: { TMPDIR: temporary },
    async file(name, content) {
      const path = join(inputs, name);
      await writeFile(path, content);
      return path;
    },
    async assertNothingLeftAndRemove() {
      try {
        expect(await findLocalNodeProcesses(temporary), "node processes of this test still running").toEqual([]);
        // tsx keeps a compile cache under TMPDIR when a .ts plugin is loaded: that is not a leftover of a run.
        expect(
          (await readdir(temporary)).filter((entry) => !entry.startsWith("tsx-")),
          `left in ${temporary}`,
        ).toEqual([]);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    },
  };
}

/**
 * The hooks of a hostile test file: the CLI must be built, each test gets a fresh sandbox (handed to
 * `onCreated`), and after it every run it started is interrupted and nothing may be left.
 */
export function useSandbox(onCreated: (sandbox: Sandbox) => void): void {
  let current: Sandbox | undefined;
  beforeAll(requireBuiltCli);
  beforeEach(async () => {
    current = await createSandbox();
    onCreated(current);
  });
  afterEach(async () => {
    await interruptRuns();
    await current?.assertNothingLeftAndRemove();
  });
}

/** A clean refusal: the exit code, one short message naming what is at fault, and no stack trace. */
export function expectRefusal(run: CliRun, code: number, message: RegExp): void {
  expect(run.stderr, `stderr:\n${run.stderr}`).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(run.stderr).toMatch(message);
  expect(run.code, `stderr:\n${run.stderr}`).toBe(code);
  expect(run.stdout).not.toMatch(/\bVALID\b|: linearizable/);
}
