// Partitions as data (Jepsen's grudge): for each node, the set of nodes whose traffic it drops.
// Builders are pure functions of the node list (callers shuffle first for random variants), so
// their shapes are testable without a cluster; applyGrudge turns one into one-way blocks.
import type { Json } from "../../plugins/api.js";
import type { NetworkControl } from "../runtime/runtime.js";
import { majority } from "../../lib/majority.js";

/** node -> the nodes it receives nothing from. */
export type Grudge = Map<number, Set<number>>;

/** Every node drops traffic from every node outside its own component. */
export function completeGrudge(components: readonly (readonly number[])[]): Grudge {
  const grudge: Grudge = new Map();
  for (const component of components) {
    const outside = components.filter((other) => other !== component).flat();
    for (const node of component) {
      grudge.set(node, new Set(outside));
    }
  }
  return grudge;
}

/** Splits the list in two at floor(n / 2): [first half, second half] (the second is the larger). */
export function bisect(nodeIds: readonly number[]): [number[], number[]] {
  const middle = Math.floor(nodeIds.length / 2);
  return [nodeIds.slice(0, middle), nodeIds.slice(middle)];
}

/** One node cut off from all others, in both directions. */
export function isolate(node: number, nodeIds: readonly number[]): Grudge {
  return completeGrudge([[node], nodeIds.filter((other) => other !== node)]);
}

/**
 * Jepsen's majorities ring: around the ring (in the given order), each node sees the window of a
 * majority of nodes centred on itself and drops the rest. Every node sees a majority, but no two
 * see the same one. With 3 nodes the result is one-way (each node drops one other).
 */
export function majoritiesRing(ring: readonly number[]): Grudge {
  const n = ring.length;
  const size = majority(n);
  const grudge: Grudge = new Map();
  for (let start = 0; start < n; start++) {
    const window = Array.from({ length: size }, (_, offset) => ring[(start + offset) % n]!);
    const self = window[Math.floor(size / 2)]!;
    grudge.set(self, new Set(ring.filter((node) => !window.includes(node))));
  }
  return grudge;
}

/**
 * Two halves cut apart except for a bridge node (the first of the second half) that sees both.
 * With 3 nodes [a, b, c]: a and c cannot talk; b talks to both.
 */
export function bridge(nodeIds: readonly number[]): { grudge: Grudge; bridgeNode: number } {
  const [first, second] = bisect(nodeIds);
  const bridgeNode = second[0];
  if (bridgeNode === undefined || first.length === 0) {
    throw new RangeError(`bridge: needs at least 2 nodes, got ${nodeIds.length}`);
  }
  const grudge = completeGrudge([first, second.slice(1)]);
  grudge.set(bridgeNode, new Set());
  return { grudge, bridgeNode };
}

/** Everyone drops what `node` sends; `node` still hears everyone. */
export function silenceOutbound(node: number, nodeIds: readonly number[]): Grudge {
  const grudge: Grudge = new Map();
  for (const other of nodeIds) {
    grudge.set(other, new Set(other === node ? [] : [node]));
  }
  return grudge;
}

/** Blocks from -> to for every grudge entry: in one step where the network can (addBlocks). */
export async function applyGrudge(network: NetworkControl, grudge: Grudge, signal?: AbortSignal): Promise<void> {
  if (network.addBlocks !== undefined) {
    signal?.throwIfAborted();
    await network.addBlocks(grudgeBlocks(grudge), signal);
    return;
  }
  for (const [node, dropped] of grudge) {
    for (const from of dropped) {
      signal?.throwIfAborted();
      await network.block(from, node, signal);
    }
  }
}

/** The (from, to) pairs a grudge blocks. */
export function grudgeBlocks(grudge: Grudge): Array<[number, number]> {
  return [...grudge].flatMap(([node, dropped]) => [...dropped].map((from): [number, number] => [from, node]));
}

/**
 * Moves the network to exactly this partition: at once where the network can (replaceBlocks),
 * otherwise by healing and blocking pair by pair. Other network faults are removed either way.
 */
export async function replacePartition(network: NetworkControl, grudge: Grudge, signal?: AbortSignal): Promise<void> {
  if (network.replaceBlocks !== undefined) {
    await network.replaceBlocks(grudgeBlocks(grudge), signal);
    return;
  }
  await network.heal(signal);
  await applyGrudge(network, grudge, signal);
}

/** {"1": [2, 3], ...}: stable JSON for the history (keys and lists sorted). */
export function grudgeToJson(grudge: Grudge): Json {
  const entries = [...grudge].sort(([a], [b]) => a - b);
  return Object.fromEntries(entries.map(([node, dropped]) => [String(node), [...dropped].sort((a, b) => a - b)]));
}

/** Whether `node` receives from `from` under the grudge. */
export function receives(grudge: Grudge, node: number, from: number): boolean {
  return !(grudge.get(node)?.has(from) ?? false);
}
