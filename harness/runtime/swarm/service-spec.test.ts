import { describe, expect, it } from "vitest";
import { nodeServiceSpec } from "./service-spec.js";

const base = {
  name: "raftlab-r1-n2",
  labels: { "raftlab.run": "r1", "raftlab.node": "2" },
  image: "raftlab-node:abc",
  command: ["node", "/app/bin/raftlab-node.js", "--id", "2"],
  nodeId: 2,
  swarmNodeId: "swarmnode0001",
  volumeName: "raftlab-r1-n2",
  peerNetwork: "raftlab-r1",
  clientNetwork: "raftlab-r1-clients",
  stopGraceSeconds: 5,
  secret: { id: "secret0001", name: "raftlab-r1-secret" },
  forceUpdate: 0,
};

describe("a node's service spec", () => {
  it("is one replica pinned to its host, never restarted by Swarm, with NET_ADMIN, its volume, both networks and a host-mode client port", () => {
    expect(nodeServiceSpec(base)).toEqual({
      Name: "raftlab-r1-n2",
      Labels: base.labels,
      TaskTemplate: {
        ContainerSpec: {
          Image: "raftlab-node:abc",
          Command: base.command,
          Hostname: "n2",
          Env: ["RAFTLAB_NODE_ID=2"],
          Labels: base.labels,
          Init: true,
          CapabilityAdd: ["NET_ADMIN"],
          Secrets: [{ SecretID: "secret0001", SecretName: "raftlab-r1-secret", File: { Name: "raftlab-cluster-secret", UID: "0", GID: "0", Mode: 0o400 } }],
          StopGracePeriod: 5_000_000_000,
          Mounts: [{ Type: "volume", Source: "raftlab-r1-n2", Target: "/data", VolumeOptions: { Labels: base.labels } }],
        },
        RestartPolicy: { Condition: "none" },
        Placement: { Constraints: ["node.id == swarmnode0001"] },
        Networks: [{ Target: "raftlab-r1" }, { Target: "raftlab-r1-clients" }],
        LogDriver: { Name: "json-file", Options: { "max-size": "10m", "max-file": "2" } },
        ForceUpdate: 0,
      },
      Mode: { Replicated: { Replicas: 1 } },
      UpdateConfig: { Parallelism: 1, Order: "stop-first", FailureAction: "continue" },
      EndpointSpec: { Mode: "dnsrr", Ports: [{ Protocol: "tcp", TargetPort: 7001, PublishMode: "host" }] },
    });
  });

  it("a restart pins the published port the host chose first and bumps ForceUpdate; a plugin directory is mounted read-only", () => {
    const spec = nodeServiceSpec({ ...base, publishedPort: 32768, forceUpdate: 3, pluginBind: { source: "/home/u/plugin", target: "/home/u/plugin" } }) as {
      TaskTemplate: { ForceUpdate: number; ContainerSpec: { Mounts: unknown[] } };
      EndpointSpec: { Ports: unknown[] };
    };
    expect(spec.TaskTemplate.ForceUpdate).toBe(3);
    expect(spec.EndpointSpec.Ports).toEqual([{ Protocol: "tcp", TargetPort: 7001, PublishMode: "host", PublishedPort: 32768 }]);
    expect(spec.TaskTemplate.ContainerSpec.Mounts[1]).toEqual({ Type: "bind", Source: "/home/u/plugin", Target: "/home/u/plugin", ReadOnly: true });
  });
});
