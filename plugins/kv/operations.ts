// How workload generators make kv arguments. Written values are unique (run-wide counter), which
// keeps histories easy to check; cas guesses from a recent window so that some swaps succeed.
import type { Json, OperationSpec } from "../api.js";

/** How far back (in unique numbers) a cas looks for the value it expects. */
export const CAS_EXPECTED_WINDOW = 16;
/** How often a cas expects the key to be absent (it succeeds on new or deleted keys). */
export const CAS_EXPECTED_ABSENT_PROBABILITY = 0.1;

export const kvOperations: Record<string, OperationSpec> = {
  get: { readOnly: true, keyed: true, argument: () => null },
  put: { readOnly: false, keyed: true, argument: ({ unique }) => String(unique) },
  // Space-terminated tokens, so a read of an appended value splits back into the appends made.
  append: { readOnly: false, keyed: true, argument: ({ unique }) => `${unique} ` },
  cas: {
    readOnly: false,
    keyed: true,
    argument: ({ unique, random }): Json => {
      const expected = random() < CAS_EXPECTED_ABSENT_PROBABILITY ? null : String(Math.max(0, unique - 1 - Math.floor(random() * CAS_EXPECTED_WINDOW)));
      return [expected, String(unique)];
    },
  },
  delete: { readOnly: false, keyed: true, argument: () => null },
};
