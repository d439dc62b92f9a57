// The bytes of a confChange entry: u8 type, u32 BE node id, u32 BE context length, context. The only
// codec for them: the server decodes entries with it too (node/server/conf-change-data.ts), and
// node/sim/conf-change-codec.test.ts pins the layout.
import type { ConfChange, ConfChangeType } from "./messages.js";
import { assert } from "../../lib/assert.js";

const TYPES: readonly ConfChangeType[] = ["addNode", "removeNode"];
const HEADER_BYTES = 1 + 4 + 4;

export function encodeConfChange(change: ConfChange): Uint8Array {
  assert(Number.isInteger(change.nodeId) && change.nodeId > 0 && change.nodeId <= 0xffffffff, "confChange.nodeId must be a u32 > 0");
  const bytes = new Uint8Array(HEADER_BYTES + change.context.length);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, TYPES.indexOf(change.type));
  view.setUint32(1, change.nodeId);
  view.setUint32(5, change.context.length);
  bytes.set(change.context, HEADER_BYTES);
  return bytes;
}

export function decodeConfChange(bytes: Uint8Array, entryIndex: number): ConfChange {
  const where = `confChange entry ${entryIndex}`;
  assert(bytes.length >= HEADER_BYTES, `${where}: ${bytes.length} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = TYPES[view.getUint8(0)];
  assert(type !== undefined, `${where}: unknown type code ${view.getUint8(0)}`);
  const nodeId = view.getUint32(1);
  const length = view.getUint32(5);
  assert(HEADER_BYTES + length === bytes.length, `${where}: context length ${length} disagrees with ${bytes.length} bytes`);
  return { type, nodeId, context: bytes.slice(HEADER_BYTES) };
}
