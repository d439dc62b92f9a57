import { describe, expect, test } from "vitest";
import { assert, InvariantError } from "./assert.js";

describe("assert", () => {
  test("passes on a truthy condition and narrows its type", () => {
    const value: string | undefined = "x" as string | undefined;
    assert(value !== undefined, "value is set");
    expect(value.length).toBe(1);
  });

  test.each([false, 0, "", null, undefined])("throws InvariantError on %j, with the message and a code", (condition) => {
    let caught: unknown;
    try {
      assert(condition, "match < next");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvariantError);
    expect((caught as InvariantError).message).toBe("invariant violated: match < next");
    expect((caught as InvariantError).code).toBe("INVARIANT_VIOLATED");
    expect((caught as InvariantError).name).toBe("InvariantError");
  });
});
