// The service spec of one node: one replica, pinned to its host by a placement constraint, never
// restarted by Swarm (restart condition none: the nemesis decides restarts), NET_ADMIN for the
// iptables and tc faults, its volume at /data, both run networks, and its client port published in
// host mode on the host that runs it. Pure, so its shape is checked without a swarm.
import { clientPort, SECRET_FILE_NAME } from "../docker/node-container.js";

/** Where Swarm mounts the cluster secret inside each task (its secrets live under /run/secrets). */
export const swarmSecretFile = `/run/secrets/${SECRET_FILE_NAME}`;

export interface NodeServiceOptions {
  name: string;
  labels: Record<string, string>;
  image: string;
  command: readonly string[];
  nodeId: number;
  /** The swarm node id the service is pinned to. */
  swarmNodeId: string;
  volumeName: string;
  /** The internal overlay network the nodes talk over (partitions cut it). */
  peerNetwork: string;
  /** A non-internal overlay network: host-mode publishing needs a network with a gateway. */
  clientNetwork: string;
  /** A third-party plugin's directory, bind-mounted read-only (it must exist on the host). */
  pluginBind?: { source: string; target: string } | undefined;
  stopGraceSeconds: number;
  /** The host port of the client port; undefined lets the host choose a free one (first start). */
  publishedPort?: number | undefined;
  /** Bumped to make Swarm replace the task (a restart), as `docker service update --force` does. */
  forceUpdate: number;
  /** The run's Swarm secret, mounted root-only at swarmSecretFile. */
  secret: { id: string; name: string };
}

/** The body of POST /services/create (and of /services/{id}/update, with the version). */
export function nodeServiceSpec(options: NodeServiceOptions): Record<string, unknown> {
  const nanosecondsPerSecond = 1_000_000_000;
  return {
    Name: options.name,
    Labels: options.labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: options.image,
        Command: [...options.command],
        Hostname: `n${options.nodeId}`,
        Env: [`RAFTLAB_NODE_ID=${options.nodeId}`],
        // On the task's container too, so `raftlab clean` finds containers on every host.
        Labels: options.labels,
        // docker-init as PID 1 forwards SIGTERM and reaps; a bare node as PID 1 ignores SIGTERM.
        Init: true,
        CapabilityAdd: ["NET_ADMIN"],
        // Swarm hands the cluster secret to the task encrypted and keeps it in memory (tmpfs).
        Secrets: [{ SecretID: options.secret.id, SecretName: options.secret.name, File: { Name: SECRET_FILE_NAME, UID: "0", GID: "0", Mode: 0o400 } }],
        StopGracePeriod: options.stopGraceSeconds * nanosecondsPerSecond,
        Mounts: [
          { Type: "volume", Source: options.volumeName, Target: "/data", VolumeOptions: { Labels: options.labels } },
          ...(options.pluginBind === undefined ? [] : [{ Type: "bind", Source: options.pluginBind.source, Target: options.pluginBind.target, ReadOnly: true }]),
        ],
      },
      RestartPolicy: { Condition: "none" },
      Placement: { Constraints: [`node.id == ${options.swarmNodeId}`] },
      Networks: [{ Target: options.peerNetwork }, { Target: options.clientNetwork }],
      LogDriver: { Name: "json-file", Options: { "max-size": "10m", "max-file": "2" } },
      ForceUpdate: options.forceUpdate,
    },
    Mode: { Replicated: { Replicas: 1 } },
    // A restart is an update: stop the old task (already dead) before starting the new one, and
    // never let a task that dies right after (a kill by the nemesis) pause later updates.
    UpdateConfig: { Parallelism: 1, Order: "stop-first", FailureAction: "continue" },
    // dnsrr: the service name resolves to the task's own address, so peers see each other's real
    // addresses (the ones the iptables rules name), with no virtual IP in between.
    EndpointSpec: {
      Mode: "dnsrr",
      Ports: [
        {
          Protocol: "tcp",
          TargetPort: clientPort,
          PublishMode: "host",
          ...(options.publishedPort === undefined ? {} : { PublishedPort: options.publishedPort }),
        },
      ],
    },
  };
}
