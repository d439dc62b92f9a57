// The handshake that opens every peer connection: a challenge-response with HMAC-SHA256 over the
// cluster secret, in both directions, before any Raft message.
//
//   dialer   -> acceptor  hello     { clusterId, from, to, dialerNonce }
//   acceptor -> dialer    challenge { acceptorNonce, acceptorProof }
//   dialer   -> acceptor  proof     { dialerProof }
//
// acceptorProof = HMAC(secret, "accept" | clusterId | from | to | dialerNonce | acceptorNonce) and
// dialerProof the same with "dial": each side proves it holds the secret over a nonce the other
// just drew, so a recorded handshake replayed on a new connection fails (the acceptor's nonce is
// new), and the distinct labels keep one side's proof from being reflected as the other's. After
// the proof the connection speaks for node `from` only: the transport drops it on any frame that
// claims another sender. A node run with --insecure has no secret and proves with an empty key, so
// insecure nodes talk to each other and never to secured ones.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { NodeId } from "../../raft/messages.js";
import { ByteReader, ByteWriter, CodecError } from "../../../lib/binary-cursor.js";

export const HANDSHAKE_MAGIC = Buffer.from("RAFTLAB2", "ascii");
/** Limit on handshake frames, applied until the handshake is accepted. */
export const HANDSHAKE_FRAME_BYTES_MAX = 1024;
export const NONCE_BYTES = 32;
const PROOF_BYTES = 32;
const CLUSTER_ID_BYTES_MAX = 256;

/** Why a proof was refused, in log lines on both sides. */
export const PROOF_MISMATCH = "does not match: the peer does not hold this cluster's secret (or one side runs --insecure)";

const KIND_HELLO = 1;
const KIND_CHALLENGE = 2;
const KIND_PROOF = 3;

export interface PeerHello {
  clusterId: string;
  fromNodeId: NodeId;
  toNodeId: NodeId;
  dialerNonce: Uint8Array;
}

export interface PeerChallenge {
  acceptorNonce: Uint8Array;
  acceptorProof: Uint8Array;
}

const EMPTY_KEY = Buffer.alloc(0);

/** HMAC over one handshake's facts; `role` says which side proves. */
export function handshakeProof(secret: Uint8Array | undefined, role: "dial" | "accept", hello: PeerHello, acceptorNonce: Uint8Array): Buffer {
  const mac = createHmac("sha256", secret ?? EMPTY_KEY);
  mac.update(`raftlab peer ${role} v2\0`);
  mac.update(lengthPrefixedUtf8(hello.clusterId));
  const ids = Buffer.alloc(8);
  ids.writeUInt32BE(hello.fromNodeId, 0);
  ids.writeUInt32BE(hello.toNodeId, 4);
  mac.update(ids);
  mac.update(hello.dialerNonce);
  mac.update(acceptorNonce);
  return mac.digest();
}

/** Constant-time comparison of a received proof with the expected one. */
export function proofMatches(received: Uint8Array, expected: Uint8Array): boolean {
  return received.length === expected.length && timingSafeEqual(received, expected);
}

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

export function encodeHello(hello: PeerHello): Buffer {
  const clusterId = Buffer.from(hello.clusterId, "utf8");
  if (clusterId.length > CLUSTER_ID_BYTES_MAX) {
    throw new RangeError(`cluster id is ${clusterId.length} bytes; at most ${CLUSTER_ID_BYTES_MAX}`);
  }
  const w = ByteWriter.allocate(HANDSHAKE_MAGIC.length + 1 + 4 + clusterId.length + 4 + 4 + NONCE_BYTES);
  w.raw(HANDSHAKE_MAGIC);
  w.u8(KIND_HELLO);
  w.lengthPrefixed(clusterId);
  w.u32(hello.fromNodeId);
  w.u32(hello.toNodeId);
  w.raw(hello.dialerNonce);
  return w.finish();
}

export function encodeChallenge(challenge: PeerChallenge): Buffer {
  const w = ByteWriter.allocate(HANDSHAKE_MAGIC.length + 1 + NONCE_BYTES + PROOF_BYTES);
  w.raw(HANDSHAKE_MAGIC);
  w.u8(KIND_CHALLENGE);
  w.raw(challenge.acceptorNonce);
  w.raw(challenge.acceptorProof);
  return w.finish();
}

export function encodeProof(dialerProof: Uint8Array): Buffer {
  const w = ByteWriter.allocate(HANDSHAKE_MAGIC.length + 1 + PROOF_BYTES);
  w.raw(HANDSHAKE_MAGIC);
  w.u8(KIND_PROOF);
  w.raw(dialerProof);
  return w.finish();
}

/** Throws CodecError on anything but a well-formed hello. */
export function decodeHello(bytes: Uint8Array, label: string): PeerHello {
  const r = readerAfterMagic(bytes, label, KIND_HELLO);
  const clusterIdBytes = r.lengthPrefixed("clusterId");
  const fromNodeId = r.u32("fromNodeId");
  const toNodeId = r.u32("toNodeId");
  const dialerNonce = Buffer.from(r.raw(NONCE_BYTES));
  r.end();
  return { clusterId: Buffer.from(clusterIdBytes).toString("utf8"), fromNodeId, toNodeId, dialerNonce };
}

export function decodeChallenge(bytes: Uint8Array, label: string): PeerChallenge {
  const r = readerAfterMagic(bytes, label, KIND_CHALLENGE);
  const acceptorNonce = Buffer.from(r.raw(NONCE_BYTES));
  const acceptorProof = Buffer.from(r.raw(PROOF_BYTES));
  r.end();
  return { acceptorNonce, acceptorProof };
}

export function decodeProof(bytes: Uint8Array, label: string): Uint8Array {
  const r = readerAfterMagic(bytes, label, KIND_PROOF);
  const proof = Buffer.from(r.raw(PROOF_BYTES));
  r.end();
  return proof;
}

/**
 * The dialing side of one connection: hello() first, then answer(challenge frame) verifies the
 * acceptor and returns the proof frame to send. Throws CodecError (with the reason) when the
 * acceptor does not prove the secret.
 */
export class DialerHandshake {
  readonly hello: PeerHello;

  constructor(
    readonly secret: Uint8Array | undefined,
    clusterId: string,
    fromNodeId: NodeId,
    toNodeId: NodeId,
  ) {
    this.hello = { clusterId, fromNodeId, toNodeId, dialerNonce: newNonce() };
  }

  helloFrame(): Buffer {
    return encodeHello(this.hello);
  }

  answer(challengeFrame: Uint8Array): Buffer {
    const label = `handshake challenge from node ${this.hello.toNodeId}`;
    const challenge = decodeChallenge(challengeFrame, label);
    const expected = handshakeProof(this.secret, "accept", this.hello, challenge.acceptorNonce);
    if (!proofMatches(challenge.acceptorProof, expected)) {
      throw new CodecError("BAD_VALUE", label, "acceptorProof", HANDSHAKE_MAGIC.length + 1 + NONCE_BYTES, PROOF_MISMATCH);
    }
    return encodeProof(handshakeProof(this.secret, "dial", this.hello, challenge.acceptorNonce));
  }
}

function readerAfterMagic(bytes: Uint8Array, label: string, kind: number): ByteReader {
  const r = new ByteReader(bytes, label);
  const magic = Buffer.from(r.raw(Math.min(HANDSHAKE_MAGIC.length, r.remaining)));
  if (!magic.equals(HANDSHAKE_MAGIC)) {
    r.fail("BAD_VERSION", "magic", `expected ${HANDSHAKE_MAGIC.toString("ascii")}, got 0x${magic.toString("hex")}`, 0);
  }
  const actual = r.u8("kind");
  if (actual !== kind) {
    r.fail("BAD_VALUE", "kind", `expected ${kind}, got ${actual}`, HANDSHAKE_MAGIC.length);
  }
  return r;
}

function lengthPrefixedUtf8(text: string): Buffer {
  const bytes = Buffer.from(text, "utf8");
  const prefixed = Buffer.alloc(4 + bytes.length);
  prefixed.writeUInt32BE(bytes.length, 0);
  bytes.copy(prefixed, 4);
  return prefixed;
}
