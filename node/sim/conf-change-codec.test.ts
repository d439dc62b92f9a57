// The core encodes confChange entries itself (it must not import the server); the server decodes
// them with its own codec. Both must agree byte for byte.
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { encodeConfChange as coreEncode, decodeConfChange as coreDecode } from "../raft/conf-change-codec.js";
import { encodeConfChange as serverEncode, decodeConfChange as serverDecode } from "../server/message-codec.js";
import type { ConfChange } from "../raft/messages.js";

describe("confChange entry bytes", () => {
  test("the core's encoding is the server's encoding, both ways", () => {
    fc.assert(
      fc.property(fc.constantFrom("addNode", "removeNode"), fc.integer({ min: 1, max: 0xffffffff }), fc.uint8Array({ maxLength: 40 }), (type, nodeId, context) => {
        const change: ConfChange = { type: type as ConfChange["type"], nodeId, context };
        const core = coreEncode(change);
        expect(Buffer.from(core)).toEqual(Buffer.from(serverEncode(change)));
        const normal = (c: ConfChange): unknown => ({ ...c, context: [...c.context] });
        expect(normal(serverDecode(core, "test"))).toEqual(normal(change));
        expect(normal(coreDecode(serverEncode(change), 1))).toEqual(normal(change));
      }),
    );
  });
});
