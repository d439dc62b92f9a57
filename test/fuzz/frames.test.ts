// Throws 10,000 fuzzed frames at a live TcpTransport listener over real sockets, one connection
// per bad frame (the listener closes a connection at its first bad frame), each after a real
// handshake (challenge and proof over the cluster secret) and a few valid messages, except the
// cases that fuzz the handshake itself. Every outcome is predicted by running the same bytes through the codecs
// in memory; the listener's counters and deliveries must match exactly, and a well-formed peer must
// still get through afterwards. Snapshots split into chunk frames are fuzzed too (whole, mutated,
// reordered); a peer has at most one snapshot in assembly, so those cases go through one worker
// rather than interleave across connections. Seed: RAFTLAB_FUZZ_SEED, else a fixed one.
import fc from "fast-check";
import { setMaxListeners } from "node:events";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Message } from "../../node/raft/messages.js";
import { CodecError } from "../../lib/binary-cursor.js";
import { encodeFrame, FrameDecoder, FrameError } from "../../node/server/transport/frame-codec.js";
import { decodeMessage, encodeMessage } from "../../node/server/transport/message-codec.js";
import { decodeHello, decodeProof, HANDSHAKE_FRAME_BYTES_MAX } from "../../node/server/transport/peer-handshake.js";
import { connectPeerSocket } from "../../node/server/transport/testing/peer-socket.js";
import { decodeSnapshotChunk, encodeSnapshotChunk, isSnapshotChunkPayload } from "../../node/server/transport/snapshot-chunk-codec.js";
import { SnapshotChunker, SnapshotReassembler } from "../../node/server/transport/snapshot-chunks.js";
import { RecordingLogger } from "../../lib/testing/recording-logger.js";
import { TcpTransport } from "../../node/server/transport/tcp-transport.js";
import * as arbitrary from "./message-arbitraries.js";
import { waitUntil } from "./wait-until.js";
import { parseHostPort } from "../../lib/host-port.js";

const SEED = Number(process.env["RAFTLAB_FUZZ_SEED"] ?? 20_260_129);
const FUZZED_FRAMES = 10_000;
const CLEAN_CONNECTIONS = 500;
const CONCURRENT_CONNECTIONS = 32;
const FRAME_BYTES_MAX = 1024 * 1024;
const CLUSTER_ID = "fuzz-cluster";
const LISTENER = 1;
const FUZZER = 2;
const GOOD_PEER = 3;
const SECRET = Buffer.from("fuzz-cluster-secret-0123456789abcdef", "utf8");

type Counter = "badFrames" | "badMessages" | "handshakesRejected" | "badSnapshotChunks";
const KINDS = [
  "randomBytes",
  "truncated",
  "bitFlip",
  "oversized",
  "garbageMessage",
  "mutatedMessage",
  "wrongSender",
  "garbageHandshake",
  "wrongMagic",
  "chunkedSnapshot",
  "mutatedChunk",
  "reorderedChunks",
] as const;
type Kind = (typeof KINDS)[number] | "clean";
const CHUNK_KINDS: ReadonlySet<Kind> = new Set(["chunkedSnapshot", "mutatedChunk", "reorderedChunks"]);
/**
 * What the codecs say a kind must produce; a mutated message or chunk may still decode (a flipped
 * byte in a field any value of which is valid).
 */
const EXPECTED_COUNTER: Record<Kind, Counter | "either" | undefined> = {
  randomBytes: "badFrames",
  truncated: "badFrames",
  bitFlip: "badFrames",
  oversized: "badFrames",
  garbageMessage: "badMessages",
  mutatedMessage: "either",
  wrongSender: "badMessages",
  garbageHandshake: "handshakesRejected",
  wrongMagic: "handshakesRejected",
  chunkedSnapshot: undefined,
  mutatedChunk: "either",
  reorderedChunks: "badSnapshotChunks",
  clean: undefined,
};

interface FuzzCase {
  kind: Kind;
  /** Sent after a completed handshake, or (garbageHandshake, wrongMagic) on a bare connection. */
  afterHandshake: boolean;
  stream: Buffer;
}

const fuzzerMessage = arbitrary.message({ from: fc.constant(FUZZER), to: fc.constant(LISTENER) });
const caseInputs = fc.record({
  kind: fc.constantFrom(...KINDS),
  prefix: fc.array(fuzzerMessage, { maxLength: 3 }),
  last: fuzzerMessage,
  bytes: fc.uint8Array({ minLength: 1, maxLength: 200 }),
  position: fc.nat(),
  oversize: fc.integer({ min: FRAME_BYTES_MAX + 1, max: 0xffffffff }),
});

let nextTag = 0;
/** A unique tag in the context, so deliveries can be matched to what was sent. */
function tagged(message: Message): Message {
  const context = Buffer.alloc(4);
  context.writeUInt32BE(nextTag++);
  return { ...message, context };
}
const frameOf = (message: Message): Buffer => encodeFrame(encodeMessage(tagged(message)));

/** The chunk payloads of a tagged snap message built from the input: at least two chunks. */
function chunkPayloads(input: CaseInput): Buffer[] {
  const data = input.bytes.length >= 2 ? input.bytes : Uint8Array.from([...input.bytes, 0]);
  const metadata = { index: input.last.index, term: input.last.logTerm, confState: { voters: [LISTENER, FUZZER] } };
  const message = tagged({ ...input.last, type: "snap", snapshot: { metadata, data } });
  const chunker = new SnapshotChunker(message, 1 + (input.position % (data.length - 1)));
  const payloads: Buffer[] = [];
  for (let chunk = chunker.next(); chunk !== undefined; chunk = chunker.next()) {
    payloads.push(encodeSnapshotChunk(chunk));
  }
  return payloads;
}

type CaseInput = typeof caseInputs extends fc.Arbitrary<infer T> ? T : never;

function buildCase(input: CaseInput, clean: boolean): FuzzCase {
  const prefix = input.prefix.map(frameOf);
  const withPrefix = (...rest: Buffer[]): Buffer => Buffer.concat([...prefix, ...rest]);
  if (clean) {
    return { kind: "clean", afterHandshake: true, stream: withPrefix(frameOf(input.last)) };
  }
  const kind = input.kind;
  const bare = kind === "garbageHandshake" || kind === "wrongMagic";
  return { kind, afterHandshake: !bare, stream: caseStream(input, kind, prefix, withPrefix) };
}

function caseStream(input: CaseInput, kind: (typeof KINDS)[number], prefix: Buffer[], withPrefix: (...rest: Buffer[]) => Buffer): Buffer {
  switch (kind) {
    case "randomBytes":
      return withPrefix(Buffer.from(input.bytes));
    case "truncated": {
      const frame = frameOf(input.last);
      return withPrefix(frame.subarray(0, 1 + (input.position % (frame.length - 1))));
    }
    case "bitFlip": {
      const frame = frameOf(input.last);
      const bit = input.position % (frame.length * 8);
      frame[bit >> 3] = frame[bit >> 3]! ^ (1 << (bit & 7));
      return withPrefix(frame);
    }
    case "oversized": {
      const header = Buffer.alloc(8);
      header.writeUInt32BE(input.oversize, 0);
      header.writeUInt32BE(input.position % 0x100000000, 4);
      return withPrefix(header, Buffer.from(input.bytes));
    }
    case "garbageMessage":
      return withPrefix(encodeFrame(input.bytes));
    case "mutatedMessage": {
      const payload = encodeMessage(tagged(input.last));
      const at = input.position % payload.length;
      payload[at] = payload[at] === input.bytes[0] ? payload[at]! ^ 0xff : input.bytes[0]!;
      return withPrefix(encodeFrame(payload));
    }
    case "wrongSender":
      return withPrefix(frameOf({ ...input.last, from: GOOD_PEER }));
    case "garbageHandshake":
      return Buffer.from(input.bytes);
    case "wrongMagic":
      return Buffer.concat([encodeFrame(input.bytes), ...prefix]);
    case "chunkedSnapshot":
      return withPrefix(...chunkPayloads(input).map((payload) => encodeFrame(payload)));
    case "mutatedChunk": {
      const payloads = chunkPayloads(input);
      const payload = payloads[input.position % payloads.length]!;
      const at = (input.position >> 3) % payload.length;
      payload[at] = payload[at] === input.bytes[0] ? payload[at]! ^ 0xff : input.bytes[0]!;
      return withPrefix(...payloads.map((p) => encodeFrame(p)));
    }
    case "reorderedChunks": {
      const payloads = chunkPayloads(input);
      const k = input.position % (payloads.length - 1);
      [payloads[k], payloads[k + 1]] = [payloads[k + 1]!, payloads[k]!];
      return withPrefix(...payloads.map((p) => encodeFrame(p)));
    }
  }
}

function sampleInputs(count: number, seed: number): CaseInput[] {
  return fc.sample(caseInputs, { seed, numRuns: count });
}

interface Outcome {
  counter: Counter | undefined;
  /** Tags of the messages the listener must deliver. */
  delivered: string[];
}

/**
 * What the listener must do with `stream`, worked out with the codecs alone. On a bare connection
 * the first frame must be a hello for this listener and the second a proof, which no bytes made up
 * here can be (it needs the secret and the listener's fresh nonce).
 */
function predict(stream: Buffer, afterHandshake: boolean): Outcome {
  const delivered: string[] = [];
  const decoder = new FrameDecoder({ frameBytesMax: afterHandshake ? FRAME_BYTES_MAX : HANDSHAKE_FRAME_BYTES_MAX });
  const reassembler = new SnapshotReassembler();
  const handshaken = afterHandshake;
  let helloSeen = false;
  try {
    decoder.append(stream);
    for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) {
      if (!handshaken) {
        if (helloSeen) {
          decodeProof(frame, "proof"); // throws on a malformed one; a well-formed one is still wrong
          return { counter: "handshakesRejected", delivered };
        }
        const hello = decodeHello(frame, "hello");
        if (hello.clusterId !== CLUSTER_ID || hello.toNodeId !== LISTENER || ![FUZZER, GOOD_PEER].includes(hello.fromNodeId)) {
          return { counter: "handshakesRejected", delivered };
        }
        helloSeen = true;
        continue;
      }
      let message: Message;
      if (isSnapshotChunkPayload(frame)) {
        const chunk = decodeSnapshotChunk(frame, "frame");
        if (chunk.from !== FUZZER || chunk.to !== LISTENER) {
          return { counter: "badMessages", delivered };
        }
        const result = reassembler.accept(chunk);
        if (result.status === "refused") {
          return { counter: "badSnapshotChunks", delivered };
        }
        if (result.status === "partial") {
          continue;
        }
        message = result.message;
      } else {
        message = decodeMessage(frame, "frame");
      }
      if (message.from !== FUZZER || message.to !== LISTENER) {
        return { counter: "badMessages", delivered };
      }
      delivered.push(Buffer.from(message.context).toString("hex"));
    }
    decoder.finish();
    return { counter: undefined, delivered };
  } catch (error) {
    if (error instanceof FrameError || (error instanceof CodecError && !handshaken)) {
      return { counter: handshaken ? "badFrames" : "handshakesRejected", delivered };
    }
    if (error instanceof CodecError) {
      return { counter: "badMessages", delivered };
    }
    throw error;
  }
}

/**
 * On a fresh connection (handshaken as the fuzzer first, unless the case fuzzes the handshake),
 * writes the whole stream, half-closes, and waits for the listener to close.
 */
async function throwAt(port: number, fuzzCase: FuzzCase, signal: AbortSignal): Promise<void> {
  const { stream } = fuzzCase;
  const handshaken = fuzzCase.afterHandshake
    ? (await connectPeerSocket({ address: `127.0.0.1:${port}`, clusterId: CLUSTER_ID, fromNodeId: FUZZER, toNodeId: LISTENER, secret: SECRET })).socket
    : undefined;
  return new Promise((resolve, reject) => {
    const socket = handshaken ?? net.connect({ host: "127.0.0.1", port });
    const onAbort = (): void => {
      socket.destroy();
      reject(new Error(`connection still open when giving up: ${String(signal.reason)}`));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    socket.on("error", () => undefined); // the listener may reset us mid-write: that is the point
    socket.on("data", () => undefined);
    if (handshaken === undefined) {
      socket.once("connect", () => socket.end(stream));
    } else {
      socket.end(stream);
    }
    socket.once("close", () => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}

describe("fuzzed frames against a live listener", () => {
  const received: Message[] = [];
  const logger = new RecordingLogger(100_000);
  let listener: TcpTransport;

  beforeAll(async () => {
    listener = new TcpTransport({
      nodeId: LISTENER,
      clusterId: CLUSTER_ID,
      listen: "127.0.0.1:0",
      // Node 2 is only a name the fuzzer claims; nothing listens at its address.
      peers: new Map([[FUZZER, "127.0.0.1:9"]]),
      onMessage: (message) => received.push(message),
      logger,
      frameBytesMax: FRAME_BYTES_MAX,
      backoff: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
      secret: SECRET,
      // Every worker's connection may be in its handshake at once.
      handshakesInflightMax: CONCURRENT_CONNECTIONS,
    });
    await listener.start(AbortSignal.timeout(5000));
  });
  afterAll(async () => {
    await listener.close();
  });

  test(`${FUZZED_FRAMES} fuzzed frames are each closed and counted; valid messages still arrive (seed ${SEED})`, async () => {
    const inputs = sampleInputs(FUZZED_FRAMES + CLEAN_CONNECTIONS, SEED);
    // Every 21st connection is clean, interleaved with the fuzzed ones.
    const cases = inputs.map((input, k) => buildCase(input, k % 21 === 20));
    expect(cases.filter((c) => c.kind !== "clean")).toHaveLength(FUZZED_FRAMES);

    const expected = { badFrames: 0, badMessages: 0, handshakesRejected: 0, badSnapshotChunks: 0 };
    const expectedTags: string[] = [];
    const mismatches: string[] = [];
    for (const [k, fuzzCase] of cases.entries()) {
      const outcome = predict(fuzzCase.stream, fuzzCase.afterHandshake);
      const want = EXPECTED_COUNTER[fuzzCase.kind];
      if (want !== "either" && outcome.counter !== want) {
        mismatches.push(`case ${k} (${fuzzCase.kind}): codecs say ${outcome.counter ?? "clean"}`);
      }
      if (outcome.counter !== undefined) {
        expected[outcome.counter] += 1;
      }
      expectedTags.push(...outcome.delivered);
    }
    expect(mismatches).toEqual([]);

    const { port } = parseHostPort(listener.listenAddress);
    const signal = AbortSignal.timeout(90_000);
    setMaxListeners(CONCURRENT_CONNECTIONS + 8, signal); // one abort listener per open connection
    const worker = async (queue: FuzzCase[]): Promise<void> => {
      for (let fuzzCase = queue.shift(); fuzzCase !== undefined; fuzzCase = queue.shift()) {
        await throwAt(port, fuzzCase, signal);
      }
    };
    const chunkCases = cases.filter((c) => CHUNK_KINDS.has(c.kind));
    const otherCases = cases.filter((c) => !CHUNK_KINDS.has(c.kind));
    expect(chunkCases.length).toBeGreaterThan(FUZZED_FRAMES / KINDS.length / 2);
    await Promise.all([worker(chunkCases), ...Array.from({ length: CONCURRENT_CONNECTIONS - 1 }, () => worker(otherCases))]);
    await waitUntil(() => listener.stats().inboundConnections === 0, signal, "the listener to close every connection");

    const stats = listener.stats();
    expect({
      badFrames: stats.badFrames,
      badMessages: stats.badMessages,
      handshakesRejected: stats.handshakesRejected,
      badSnapshotChunks: stats.badSnapshotChunks,
    }).toEqual(expected);
    expect(stats.messagesIn).toBe(expectedTags.length);
    expect(received.map((m) => Buffer.from(m.context).toString("hex")).sort()).toEqual([...expectedTags].sort());
    const fuzzedChunkCases = cases.filter((c) => c.kind === "chunkedSnapshot").length;
    expect(expected.badFrames + expected.badMessages + expected.handshakesRejected + expected.badSnapshotChunks).toBeGreaterThan(
      (FUZZED_FRAMES - fuzzedChunkCases) * 0.95,
    );
    expect(expected.badSnapshotChunks).toBeGreaterThan(0);

    const checksumWarning = logger.find("warn", /closing a bad inbound connection/).find((r) => String(r.fields["reason"]).startsWith("BAD_CHECKSUM"));
    expect(String(checksumWarning?.fields["reason"])).toMatch(/^BAD_CHECKSUM: frame \d+ at stream byte offset \d+: /);

    // A well-formed peer still gets through.
    const goodPeer = new TcpTransport({
      nodeId: GOOD_PEER,
      clusterId: CLUSTER_ID,
      listen: "127.0.0.1:0",
      peers: new Map([[LISTENER, listener.listenAddress]]),
      onMessage: () => undefined,
      logger: new RecordingLogger(100),
      secret: SECRET,
    });
    try {
      await goodPeer.start(signal);
      listener.addPeer(GOOD_PEER, goodPeer.listenAddress);
      const before = received.length;
      const sample = fc.sample(arbitrary.message({ from: fc.constant(GOOD_PEER), to: fc.constant(LISTENER) }), { seed: SEED, numRuns: 100 });
      goodPeer.send(sample);
      await waitUntil(() => received.length === before + 100, signal, "the good peer's 100 messages");
      expect(received.slice(before).map((m) => m.from)).toEqual(Array(100).fill(GOOD_PEER));
    } finally {
      await goodPeer.close();
    }
  });
});
