import { describe, expect, it } from "vitest";
import { CodedError } from "./coded-error.js";

class ExampleError extends CodedError<"EXAMPLE_FAILED"> {
  override readonly name = "ExampleError";
}

describe("CodedError", () => {
  it("carries its code, prefixes the message with it, and keeps the cause", () => {
    const cause = new Error("disk full");
    const error = new ExampleError("EXAMPLE_FAILED", "saving node 2's snapshot", { cause });
    expect(error).toBeInstanceOf(ExampleError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe("EXAMPLE_FAILED");
    expect(error.message).toBe("EXAMPLE_FAILED: saving node 2's snapshot");
    expect(error.name).toBe("ExampleError");
    expect(error.cause).toBe(cause);
    expect(String(error)).toBe("ExampleError: EXAMPLE_FAILED: saving node 2's snapshot");
  });
});
