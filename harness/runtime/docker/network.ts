// Packet faults for Docker nodes, made with iptables and tc INSIDE each node's container (its own
// network namespace), in Jepsen's way: blocks and loss are iptables rules, latency is a netem qdisc
// and bandwidth a tbf qdisc on the node's interface on the run's network (egress). The wanted
// faults are kept here as state, and each node's rules are rewritten from that state, so a node that restarts (fresh namespace, no rules) or was
// paused (docker exec refuses paused containers) gets its rules back from reconcile().
//
// Rules live in one chain, RAFTLAB, jumped to from INPUT: heal rewrites it empty. Only INPUT is
// used: a DROP in OUTPUT makes the sender's send() fail at once with EPERM, which a real network
// never does, while dropping at the receiver makes the sender time out as it would.
import type Docker from "dockerode";
import { DockerRuntimeError } from "../../../docker/image/docker-error.js";
import { isNotFound } from "../../../docker/image/image.js";
import { execInContainer } from "./exec.js";
import { ALL_NETWORK_FAULTS, FaultUnsupportedError, type NetworkCapabilities, type NetworkControl } from "../runtime.js";
import { burstBytesFor } from "../local/token-bucket.js";

export interface NetworkNode {
  id: number;
  /**
   * The node's address on the run's internal network. Read at each rewrite: a swarm node gets a new
   * address when it restarts, and every node's rules are then rewritten (reconcile).
   */
  readonly address: string;
  /** Read at each rewrite too: a restarted swarm node is a new container. */
  readonly container: Docker.Container;
}

interface Latency {
  delayMs: number;
  jitterMs: number;
}

const chain = "RAFTLAB";

/**
 * Applies iptables-restore input (rewriting only the RAFTLAB chain), hooks the chain into INPUT, and
 * sets the qdiscs of the interface that holds the node's address (eth0 on a plain Docker network; a
 * swarm task has several networks, in no fixed order): netem (RAFTLAB_NETEM) at the root with tbf
 * (RAFTLAB_TBF) under it, or either alone. Qdiscs of the wanted kinds are changed in place (`replace`), so a rewrite that leaves them
 * alone does not drop the packets they queue; other shapes are deleted first. The image has no
 * grep or sed: the shell's `case` reads `tc qdisc show`.
 */
const applyScript = [
  "set -e",
  'set -- $(ip -o -4 addr show to "$RAFTLAB_ADDRESS/32"); dev=${2:-}',
  'if [ -z "$dev" ]; then echo "no interface holds $RAFTLAB_ADDRESS" >&2; exit 1; fi',
  `printf '%s\\n' "$RAFTLAB_RULES" | iptables-restore -w --noflush`,
  `iptables -w -C INPUT -j ${chain} 2>/dev/null || iptables -w -I INPUT 1 -j ${chain}`,
  'qdiscs=$(tc qdisc show dev "$dev")',
  'case "$qdiscs" in "qdisc netem 1: root"*) installed=netem ;; "qdisc tbf 1: root"*) installed=tbf ;; *) installed= ;; esac',
  'case "$qdiscs" in *"parent 1:1"*) installed="$installed+tbf" ;; esac',
  'if [ -n "$RAFTLAB_NETEM" ] && [ -n "$RAFTLAB_TBF" ]; then wanted=netem+tbf; elif [ -n "$RAFTLAB_NETEM" ]; then wanted=netem; ' +
    'elif [ -n "$RAFTLAB_TBF" ]; then wanted=tbf; else wanted=; fi',
  'if [ "$installed" != "$wanted" ]; then tc qdisc del dev "$dev" root 2>/dev/null || true; fi',
  'if [ -n "$RAFTLAB_NETEM" ]; then tc qdisc replace dev "$dev" root handle 1: netem $RAFTLAB_NETEM; fi',
  'if [ -n "$RAFTLAB_NETEM" ] && [ -n "$RAFTLAB_TBF" ]; then tc qdisc replace dev "$dev" parent 1:1 handle 10: tbf $RAFTLAB_TBF; fi',
  'if [ -z "$RAFTLAB_NETEM" ] && [ -n "$RAFTLAB_TBF" ]; then tc qdisc replace dev "$dev" root handle 1: tbf $RAFTLAB_TBF; fi',
].join("\n");

/** How long tbf may queue a packet before dropping it: a router's buffer, not an endless one. */
const tbfLatencyMs = 200;

export const netemMissingMessage = "this kernel has no netem qdisc (sch_netem); latency faults need a host with netem; loss uses iptables statistic instead";

/** The latency capability where the kernel lacks netem: what is missing, and the way out. */
export const netemMissingReason = `${netemMissingMessage}. Use --runtime local (its proxies delay traffic in userland) or a host with netem.`;

/** What Docker networks inject, given whether the kernel has netem: everything else is iptables and tbf. */
export function dockerNetworkCapabilities(netem: boolean): NetworkCapabilities {
  return { ...ALL_NETWORK_FAULTS, latency: netem ? true : netemMissingReason };
}

export class DockerNetworkControl implements NetworkControl {
  /** Wanted one-way blocks, as "from>to". */
  private readonly blocks = new Set<string>();
  /** Wanted loss probability (0 < p <= 1) for what each node receives from its peers. */
  private readonly lossByNode = new Map<number, number>();
  private readonly latencyByNode = new Map<number, Latency>();
  /** Wanted egress rate cap per node, in bits per second. */
  private readonly bandwidthByNode = new Map<number, number>();
  /** Per node, the tail of its queue of rule rewrites, so rewrites never interleave. */
  private readonly applying = new Map<number, Promise<void>>();
  private netemProbe: Promise<boolean> | undefined;

  constructor(private readonly nodes: ReadonlyMap<number, NetworkNode>) {}

  async block(from: number, to: number, signal?: AbortSignal): Promise<void> {
    this.node(from);
    this.node(to);
    if (from === to) {
      throw new DockerRuntimeError("DOCKER_BAD_SPEC", `block(${from}, ${to}): a node cannot be cut from itself`);
    }
    this.blocks.add(`${from}>${to}`);
    await this.apply([to], signal);
  }

  async replaceBlocks(blocks: ReadonlyArray<readonly [number, number]>, signal?: AbortSignal): Promise<void> {
    this.checkBlocks(blocks);
    this.blocks.clear();
    for (const [from, to] of blocks) {
      this.blocks.add(`${from}>${to}`);
    }
    // One rewrite per node, all at once: a scripted fault moves from one partition to the next
    // without the seconds that a heal and a rewrite per pair took.
    await this.apply([...this.nodes.keys()], signal);
  }

  async addBlocks(blocks: ReadonlyArray<readonly [number, number]>, signal?: AbortSignal): Promise<void> {
    this.checkBlocks(blocks);
    for (const [from, to] of blocks) {
      this.blocks.add(`${from}>${to}`);
    }
    // Each receiving node once, all at once: a pair-by-pair partition took hold over several
    // hundred milliseconds, and a leader that stopped hearing its followers long before they
    // stopped hearing it stepped down before they could elect anyone.
    await this.apply(
      blocks.map(([, to]) => to),
      signal,
    );
  }

  private checkBlocks(blocks: ReadonlyArray<readonly [number, number]>): void {
    for (const [from, to] of blocks) {
      this.node(from);
      this.node(to);
      if (from === to) {
        throw new DockerRuntimeError("DOCKER_BAD_SPEC", `block(${from}, ${to}): a node cannot be cut from itself`);
      }
    }
  }

  async heal(signal?: AbortSignal): Promise<void> {
    this.blocks.clear();
    this.lossByNode.clear();
    this.latencyByNode.clear();
    this.bandwidthByNode.clear();
    await this.apply([...this.nodes.keys()], signal);
  }

  async loss(nodeIds: number[], probability: number, signal?: AbortSignal): Promise<void> {
    if (!(probability >= 0 && probability <= 1)) {
      throw new DockerRuntimeError("DOCKER_BAD_SPEC", `loss probability must be in 0..1, got ${probability}`);
    }
    for (const id of nodeIds) {
      this.node(id);
      if (probability === 0) {
        this.lossByNode.delete(id);
      } else {
        this.lossByNode.set(id, probability);
      }
    }
    await this.apply(nodeIds, signal);
  }

  async latency(nodeIds: number[], delayMs: number, jitterMs: number, signal?: AbortSignal): Promise<void> {
    if (!(delayMs >= 0 && jitterMs >= 0)) {
      throw new DockerRuntimeError("DOCKER_BAD_SPEC", `latency needs delayMs >= 0 and jitterMs >= 0, got ${delayMs} and ${jitterMs}`);
    }
    nodeIds.forEach((id) => this.node(id));
    if (!(await this.netemAvailable(signal))) {
      throw new FaultUnsupportedError(netemMissingMessage);
    }
    for (const id of nodeIds) {
      this.latencyByNode.set(id, { delayMs, jitterMs });
    }
    await this.apply(nodeIds, signal);
  }

  /**
   * A tbf qdisc on each node's interface on the run's network: what it sends there leaves at most at
   * the rate (to peers and, on a plain Docker network, to clients too).
   */
  async bandwidth(nodeIds: number[], bitsPerSecond: number, signal?: AbortSignal): Promise<void> {
    if (!(Number.isSafeInteger(bitsPerSecond) && bitsPerSecond > 0)) {
      throw new DockerRuntimeError("DOCKER_BAD_SPEC", `bandwidth needs a whole number of bits per second > 0, got ${bitsPerSecond}`);
    }
    nodeIds.forEach((id) => this.node(id));
    for (const id of nodeIds) {
      this.bandwidthByNode.set(id, bitsPerSecond);
    }
    await this.apply(nodeIds, signal);
  }

  async capabilities(signal?: AbortSignal): Promise<NetworkCapabilities> {
    return dockerNetworkCapabilities(await this.netemAvailable(signal));
  }

  /**
   * Whether the kernel offers the netem qdisc, probed once per cluster on the loopback device of a
   * running node (so the probe never disturbs the traffic under test).
   */
  private netemAvailable(signal?: AbortSignal): Promise<boolean> {
    this.netemProbe ??= this.probeNetem(signal).catch((error: unknown) => {
      this.netemProbe = undefined; // A failed probe (no running node yet) is retried next time.
      throw error;
    });
    return this.netemProbe;
  }

  /** Rewrites a node's rules from the wanted state; the cluster calls it after start and resume. */
  async reconcile(id: number, signal?: AbortSignal): Promise<void> {
    await this.apply([id], signal);
  }

  /** The rules a node should hold, as iptables-restore input (exported for the report and tests). */
  rulesFor(id: number): string {
    const lines = ["*filter", `:${chain} - [0:0]`];
    for (const key of this.blocks) {
      const [from, to] = key.split(">").map(Number) as [number, number];
      if (to === id) {
        lines.push(`-A ${chain} -s ${this.node(from).address}/32 -j DROP`);
      }
    }
    const probability = this.lossByNode.get(id);
    if (probability !== undefined) {
      // One rule per peer rather than the whole subnet: the harness's client traffic comes from the
      // network's gateway and must never be dropped.
      for (const peer of this.nodes.values()) {
        if (peer.id !== id) {
          lines.push(`-A ${chain} -s ${peer.address}/32 -m statistic --mode random --probability ${probability} -j DROP`);
        }
      }
    }
    lines.push("COMMIT");
    return lines.join("\n");
  }

  /** The node's tbf parameters for tc, or "" when its rate is not capped (public for the report and tests). */
  tbfFor(id: number): string {
    const bitsPerSecond = this.bandwidthByNode.get(id);
    return bitsPerSecond === undefined ? "" : `rate ${bitsPerSecond}bit burst ${burstBytesFor(bitsPerSecond)} latency ${tbfLatencyMs}ms`;
  }

  private async probeNetem(signal: AbortSignal | undefined): Promise<boolean> {
    for (const node of this.nodes.values()) {
      if (!(await isExecutable(node.container))) {
        continue;
      }
      const result = await execInContainer(node.container, ["sh", "-c", "tc qdisc add dev lo root netem delay 1ms && tc qdisc del dev lo root"], { signal });
      if (result.exitCode === 0) {
        return true;
      }
      if (/unknown|No such file|not supported/i.test(result.stderr)) {
        return false;
      }
      throw new DockerRuntimeError("DOCKER_EXEC_FAILED", `probing netem in node ${node.id} failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
    }
    throw new DockerRuntimeError("DOCKER_EXEC_FAILED", "cannot probe netem: no node container is running");
  }

  private async apply(nodeIds: readonly number[], signal: AbortSignal | undefined): Promise<void> {
    await Promise.all([...new Set(nodeIds)].map((id) => this.enqueueApply(id, signal)));
  }

  private enqueueApply(id: number, signal: AbortSignal | undefined): Promise<void> {
    const previous = this.applying.get(id) ?? Promise.resolve();
    // Rules are computed when the rewrite runs, not when it is queued, so the last one wins.
    const next = previous.catch(() => {}).then(() => this.applyNow(id, signal));
    this.applying.set(id, next);
    return next;
  }

  private async applyNow(id: number, signal: AbortSignal | undefined): Promise<void> {
    const node = this.node(id);
    if (!(await isExecutable(node.container))) {
      // Stopped or paused: reconcile() rewrites the rules when the cluster starts or resumes it.
      return;
    }
    const latency = this.latencyByNode.get(id);
    const netem = latency === undefined ? "" : `delay ${latency.delayMs}ms ${latency.jitterMs}ms`;
    const result = await execInContainer(node.container, ["sh", "-c", applyScript], {
      signal,
      env: [`RAFTLAB_ADDRESS=${node.address}`, `RAFTLAB_RULES=${this.rulesFor(id)}`, `RAFTLAB_NETEM=${netem}`, `RAFTLAB_TBF=${this.tbfFor(id)}`],
    });
    if (result.exitCode !== 0) {
      if (!(await isExecutable(node.container))) {
        // The node stopped during the rewrite (exit 137: its exec was killed with it), for instance
        // on its own assertion; its namespace and rules are gone, and reconcile() rewrites them on start.
        return;
      }
      throw new DockerRuntimeError(
        "DOCKER_EXEC_FAILED",
        `rewriting the ${chain} rules in node ${id} (${node.address}) failed (exit ${result.exitCode}): ${result.stderr.trim()}`,
      );
    }
  }

  private node(id: number): NetworkNode {
    const node = this.nodes.get(id);
    if (node === undefined) {
      throw new DockerRuntimeError("DOCKER_BAD_SPEC", `no node ${id} in this cluster (nodes: ${[...this.nodes.keys()].join(", ")})`);
    }
    return node;
  }
}

/**
 * docker exec works only in a running, unpaused container. A container that is gone (a swarm task's,
 * removed by the swarm after its task ended) holds no rules either.
 */
async function isExecutable(container: Docker.Container): Promise<boolean> {
  try {
    const state = (await container.inspect()).State;
    return state.Running && !state.Paused;
  } catch (error) {
    if (isNotFound(error)) {
      return false;
    }
    throw error;
  }
}
