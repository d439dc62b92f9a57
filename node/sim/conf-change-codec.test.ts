// confChange entries are in every WAL and travel in app messages, and node/raft/conf-change-codec.ts
// is their only codec (the core proposes them, the server decodes them with it). Pin its layout
// against an encoding written out by hand: u8 type, u32 BE node id, u32 BE context length, context.
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { encodeConfChange, decodeConfChange } from "../raft/conf-change-codec.js";
import type { ConfChange } from "../raft/messages.js";

function pinnedLayout(change: ConfChange): Buffer {
  const header = Buffer.alloc(9);
  header.writeUInt8(change.type === "addNode" ? 0 : 1, 0);
  header.writeUInt32BE(change.nodeId, 1);
  header.writeUInt32BE(change.context.length, 5);
  return Buffer.concat([header, change.context]);
}

describe("confChange entry bytes", () => {
  test("the codec writes the pinned layout and reads it back", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("addNode", "removeNode"),
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.uint8Array({ maxLength: 40 }),
        (type, nodeId, context) => {
          const change: ConfChange = { type: type as ConfChange["type"], nodeId, context };
          expect(Buffer.from(encodeConfChange(change))).toEqual(pinnedLayout(change));
          const normal = (c: ConfChange): unknown => ({ ...c, context: [...c.context] });
          expect(normal(decodeConfChange(pinnedLayout(change), 1))).toEqual(normal(change));
        },
      ),
    );
    expect(() => decodeConfChange(Buffer.from([7, 0, 0, 0, 1, 0, 0, 0, 0]), 12)).toThrow("confChange entry 12: unknown type code 7");
  });
});
