// The first frame a dialing node sends on a peer connection: who it is, whom it meant to reach and
// which cluster it belongs to, so a stray or misrouted connection is refused before any message.
import type { NodeId } from "../../raft/messages.js";
import { ByteReader, ByteWriter } from "../../../lib/binary-cursor.js";

export const HANDSHAKE_MAGIC = Buffer.from("RAFTLAB1", "ascii");
/** Limit on the handshake frame, applied until the handshake is accepted. */
export const HANDSHAKE_FRAME_BYTES_MAX = 1024;
const CLUSTER_ID_BYTES_MAX = 256;

export interface PeerHandshake {
  clusterId: string;
  fromNodeId: NodeId;
  toNodeId: NodeId;
}

export function encodeHandshake(handshake: PeerHandshake): Buffer {
  const clusterId = Buffer.from(handshake.clusterId, "utf8");
  if (clusterId.length > CLUSTER_ID_BYTES_MAX) {
    throw new RangeError(`cluster id is ${clusterId.length} bytes; at most ${CLUSTER_ID_BYTES_MAX}`);
  }
  const w = ByteWriter.allocate(HANDSHAKE_MAGIC.length + 4 + clusterId.length + 4 + 4);
  w.raw(HANDSHAKE_MAGIC);
  w.lengthPrefixed(clusterId);
  w.u32(handshake.fromNodeId);
  w.u32(handshake.toNodeId);
  return w.finish();
}

/** Throws CodecError on anything but a well-formed handshake. */
export function decodeHandshake(bytes: Uint8Array, label: string): PeerHandshake {
  const r = new ByteReader(bytes, label);
  const magic = Buffer.from(r.raw(Math.min(HANDSHAKE_MAGIC.length, r.remaining)));
  if (!magic.equals(HANDSHAKE_MAGIC)) {
    r.fail("BAD_VERSION", "magic", `expected ${HANDSHAKE_MAGIC.toString("ascii")}, got 0x${magic.toString("hex")}`, 0);
  }
  const clusterIdBytes = r.lengthPrefixed("clusterId");
  const fromNodeId = r.u32("fromNodeId");
  const toNodeId = r.u32("toNodeId");
  r.end();
  return { clusterId: Buffer.from(clusterIdBytes).toString("utf8"), fromNodeId, toNodeId };
}
