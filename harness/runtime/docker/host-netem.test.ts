import { describe, expect, it } from "vitest";
import { daemonSharesOurKernel, probeHostNetem } from "./host-netem.js";

describe("the host netem probe", () => {
  it("trusts the host's kernel only for a daemon on a local socket", () => {
    expect([undefined, "", "unix:///var/run/docker.sock"].map(daemonSharesOurKernel)).toEqual([true, true, true]);
    expect(["tcp://build-box:2376", "ssh://me@elsewhere"].map(daemonSharesOurKernel)).toEqual([false, false]);
  });

  it("answers unknown, without probing, for a daemon elsewhere", async () => {
    const saved = process.env["DOCKER_HOST"];
    process.env["DOCKER_HOST"] = "tcp://build-box:2376";
    try {
      expect(await probeHostNetem()).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env["DOCKER_HOST"];
      else process.env["DOCKER_HOST"] = saved;
    }
  });

  it("answers on this host without throwing (true, false, or unknown where it cannot probe)", async () => {
    expect([true, false, undefined]).toContain(await probeHostNetem());
  });
});
