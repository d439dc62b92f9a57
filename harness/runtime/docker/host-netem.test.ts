import { describe, expect, it } from "vitest";
import { daemonSharesOurKernel, netemProbeAnswer, probeHostNetem } from "./host-netem.js";

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

  // What tc and unshare print (iproute2 and util-linux): only tc's own "unknown qdisc" means no netem.
  it.each([
    [0, "", true],
    [2, "Error: Specified qdisc kind is unknown.\n", false],
    [
      2,
      'RTNETLINK answers: No such file or directory\nWe have an error talking to the kernel, -1\nUnknown qdisc "netem", hence option "delay" is unparsable\n',
      false,
    ],
    [1, "unshare: unshare failed: Operation not permitted\n", undefined],
    [1, "unshare: failed to execute tc: No such file or directory\n", undefined],
    [2, "RTNETLINK answers: Operation not permitted\n", undefined],
  ])("reads exit %i with %j as %j", (exitCode, stderr, answer) => {
    expect(netemProbeAnswer(exitCode, stderr)).toBe(answer);
  });
});
