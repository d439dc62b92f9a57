// The container node's command line and start settings: every start after the first must tell the
// node that the member ran before (--initial-cluster-state existing), on the docker runtime through
// the settings file its command reads, on the swarm runtime through the restarted task's command.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parseNodeArgs } from "../../../node/server/config/config.js";
import { nodeCommand, restartCommand, START_CONFIG_DIRECTORY, START_CONFIG_FILE_NAME, startConfigText } from "./node-container.js";

const spec = { runId: "r1", nodeIds: [1, 2], plugin: "kv", unsafe: [], logDir: "/tmp/logs" };
const peers = new Map([
  [1, "10.0.0.1:7000"],
  [2, "10.0.0.2:7000"],
]);

/** The config the node would parse from `command` (image entry dropped), with the settings file at `settingsPath`. */
function parsed(command: readonly string[], settingsPath?: string): ReturnType<typeof parseNodeArgs> {
  const argv = command
    .slice(2)
    .map((arg) => (arg === `${START_CONFIG_DIRECTORY}/${START_CONFIG_FILE_NAME}` && settingsPath !== undefined ? settingsPath : arg));
  return parseNodeArgs([...argv.filter((arg) => arg !== "--secret-file" && !arg.startsWith("/etc/raftlab-cluster")), "--insecure"]);
}

describe("container node start settings", () => {
  test("the docker command reads the settings file: new before the first start, existing after", () => {
    const directory = mkdtempSync(join(tmpdir(), "raftlab-start-config-"));
    try {
      const settings = join(directory, START_CONFIG_FILE_NAME);
      const command = nodeCommand({ spec, id: 1, peers, plugin: "kv" });
      expect(command).toContain(`${START_CONFIG_DIRECTORY}/${START_CONFIG_FILE_NAME}`);
      writeFileSync(settings, startConfigText(false));
      expect(parsed(command, settings).initialClusterState).toBe("new");
      writeFileSync(settings, startConfigText(true));
      expect(parsed(command, settings).initialClusterState).toBe("existing");
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test("the swarm command reads no settings file; its restart command says the member ran before, unless it joins", () => {
    const command = nodeCommand({ spec, id: 1, peers, plugin: "kv", startConfigFile: false });
    expect(command).not.toContain("--config");
    expect(parsed(command).initialClusterState).toBe("new");
    expect(parsed(restartCommand(command)).initialClusterState).toBe("existing");
    const joining = [...command, "--join"];
    expect(restartCommand(joining)).toEqual(joining);
  });
});
