// The bytes of a confChange log entry: the core's own encoding, so that the bootstrap entries the
// server writes and the entries the core proposes decode the same way.
import type { ConfChange } from "../raft/messages.js";
import { decodeConfChange, encodeConfChange } from "../raft/conf-change-codec.js";

export function encodeConfChangeEntryData(change: ConfChange): Uint8Array {
  return encodeConfChange(change);
}

export function decodeConfChangeEntryData(data: Uint8Array, entryIndex: number): ConfChange {
  return decodeConfChange(data, entryIndex);
}
