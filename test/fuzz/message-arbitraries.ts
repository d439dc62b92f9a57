// fast-check generators for the Raft wire types, shared by the codec property tests and the
// transport fuzz test. Messages satisfy the codec's contract: an app message's entries are
// contiguous from index + 1; other types carry any entries (a forwarded proposal's are at index 0).
import fc from "fast-check";
import type { Entry, HardState, Message, Snapshot } from "../../node/raft/messages.js";
import { MESSAGE_TYPES } from "../../node/server/transport/message-codec.js";

/** Mostly small numbers, sometimes past 2^32 to exercise the float64 fields. */
export const raftNumber = (): fc.Arbitrary<number> => fc.oneof({ weight: 4, arbitrary: fc.nat(1000) }, { weight: 1, arbitrary: fc.maxSafeNat() });

export const nodeId = (): fc.Arbitrary<number> =>
  fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 7 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) });

const bytes = (maxLength = 32): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength });

export const entryAt = (index: number): fc.Arbitrary<Entry> =>
  fc.record({
    term: raftNumber(),
    index: fc.constant(index),
    type: fc.constantFrom("normal" as const, "confChange" as const),
    data: bytes(),
  });

export const entry = (): fc.Arbitrary<Entry> => fc.nat(1_000_000).chain((index) => entryAt(index));

/** A run of entries with consecutive indexes starting at `firstIndex`. */
export const entriesFrom = (firstIndex: number, maxLength = 4): fc.Arbitrary<Entry[]> =>
  fc.nat(maxLength).chain((count) => fc.tuple(...Array.from({ length: count }, (_, i) => entryAt(firstIndex + i))));

export const hardState = (): fc.Arbitrary<HardState> => fc.record({ term: raftNumber(), vote: nodeId(), commit: raftNumber() });

export const snapshot = (): fc.Arbitrary<Snapshot> =>
  fc.record({
    metadata: fc.record({
      index: raftNumber(),
      term: raftNumber(),
      confState: fc.record({ voters: fc.array(nodeId(), { maxLength: 7 }) }),
    }),
    data: bytes(64),
  });

export const message = (overrides: { from?: fc.Arbitrary<number>; to?: fc.Arbitrary<number> } = {}): fc.Arbitrary<Message> =>
  fc
    .record({
      type: fc.constantFrom(...MESSAGE_TYPES),
      from: overrides.from ?? nodeId(),
      to: overrides.to ?? nodeId(),
      term: raftNumber(),
      logTerm: raftNumber(),
      index: fc.nat(1_000_000),
      commit: raftNumber(),
      reject: fc.boolean(),
      rejectHint: raftNumber(),
      hintTerm: raftNumber(),
      context: bytes(16),
      snapshot: fc.option(snapshot(), { nil: undefined }),
    })
    .chain((fields) =>
      (fields.type === "app" ? entriesFrom(fields.index + 1) : fc.array(fc.oneof(entryAt(0), entry()), { maxLength: 4 })).map((entries): Message => {
        const { snapshot: maybeSnapshot, ...rest } = fields;
        const built: Message = { ...rest, entries };
        if (maybeSnapshot !== undefined) {
          built.snapshot = maybeSnapshot;
        }
        return built;
      }),
    );
