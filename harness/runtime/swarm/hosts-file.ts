// The swarm hosts file: which Docker API endpoint reaches each swarm node, so that faults can run
// inside each task's container on whatever host it is (a manager cannot exec into a container on
// another host). YAML, keyed by the node names `docker node ls` shows:
//
//   hosts:
//     host-a: unix:///var/run/docker.sock          # shorthand: just the endpoint
//     host-b: { docker: "ssh://raftlab@192.0.2.12" }
//     host-c:
//       docker: tcp://192.0.2.13:2376
//       tls: { ca: certs/ca.pem, cert: certs/cert.pem, key: certs/key.pem }  # relative to this file
//       address: 192.0.2.13                         # where the harness reaches published ports
import Docker from "dockerode";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { WorkloadFileError } from "../../workload/errors.js";
import { parseValidatedYaml } from "../../workload/load.js";

const endpointSchemes = ["unix://", "ssh://", "tcp://", "http://", "https://"];

const endpoint = z.string().superRefine((text, context) => {
  if (!endpointSchemes.some((scheme) => text.startsWith(scheme))) {
    context.addIssue({ code: "custom", message: `expected a Docker endpoint starting with ${endpointSchemes.join(", ")}; got "${text}"`, input: text });
  }
});

const hostEntry = z.preprocess(
  (value) => (typeof value === "string" ? { docker: value } : value),
  z.strictObject({
    docker: endpoint,
    /** The host's address as the harness reaches it (published client ports); default: the swarm's view. */
    address: z.string().min(1).optional(),
    tls: z.strictObject({ ca: z.string().min(1), cert: z.string().min(1), key: z.string().min(1) }).optional(),
    /** ssh: a private key file; default: the ssh agent ($SSH_AUTH_SOCK). */
    identity: z.string().min(1).optional(),
  }),
);

const hostsFileSchema = z.strictObject({ hosts: z.record(z.string().min(1), hostEntry) });

export type HostEntry = z.output<typeof hostEntry>;

export interface HostsFile {
  file: string;
  hosts: ReadonlyMap<string, HostEntry>;
}

/** Reads and checks a hosts file; a problem is a WorkloadFileError naming file, line and field. */
export async function readHostsFile(path: string): Promise<HostsFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new WorkloadFileError(path, [{ field: "", message: `cannot read the swarm hosts file: ${error instanceof Error ? error.message : String(error)}` }]);
  }
  const { data } = parseValidatedYaml(text, path, hostsFileSchema, "expected `hosts:`, a map from swarm node names to Docker endpoints");
  return { file: path, hosts: new Map(Object.entries(data.hosts)) };
}

export interface HostConnection {
  docker: Docker;
  /** The endpoint as written, for messages. */
  endpoint: string;
  /** A Unix socket: the daemon runs on this machine, whose loopback reaches its published ports. */
  local: boolean;
  /** The host name or address inside the endpoint (ssh, tcp), a fallback for the client address. */
  endpointHost: string | undefined;
}

/** A Docker client for one host's endpoint; TLS and key files are read relative to `baseDirectory`. */
export function connectHost(entry: HostEntry, baseDirectory: string, file: string): HostConnection {
  const text = entry.docker;
  if (text.startsWith("unix://")) {
    return { docker: new Docker({ socketPath: text.slice("unix://".length) || "/var/run/docker.sock" }), endpoint: text, local: true, endpointHost: undefined };
  }
  const url = new URL(text);
  const read = (path: string, field: string): Buffer => {
    try {
      return readFileSync(resolve(baseDirectory, path));
    } catch (error) {
      throw new WorkloadFileError(file, [
        { field, message: `cannot read ${resolve(baseDirectory, path)}: ${error instanceof Error ? error.message : String(error)}` },
      ]);
    }
  };
  if (url.protocol === "ssh:") {
    const privateKey = entry.identity === undefined ? undefined : read(entry.identity, "identity");
    const docker = new Docker({
      protocol: "ssh",
      host: url.hostname,
      port: url.port === "" ? 22 : Number(url.port),
      ...(url.username === "" ? {} : { username: decodeURIComponent(url.username) }),
      sshOptions: {
        ...(process.env["SSH_AUTH_SOCK"] === undefined ? {} : { agent: process.env["SSH_AUTH_SOCK"] }),
        ...(privateKey === undefined ? {} : { privateKey }),
      },
    });
    return { docker, endpoint: text, local: false, endpointHost: url.hostname };
  }
  const secure = entry.tls !== undefined || url.protocol === "https:";
  const tls = entry.tls === undefined ? {} : { ca: read(entry.tls.ca, "tls.ca"), cert: read(entry.tls.cert, "tls.cert"), key: read(entry.tls.key, "tls.key") };
  const docker = new Docker({
    protocol: secure ? "https" : "http",
    host: url.hostname,
    port: url.port === "" ? (secure ? 2376 : 2375) : Number(url.port),
    ...tls,
  });
  return { docker, endpoint: text, local: false, endpointHost: url.hostname };
}

/** The directory relative paths in a hosts file start from. */
export function hostsFileDirectory(file: string): string {
  return dirname(resolve(file));
}
