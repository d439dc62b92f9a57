import { describe, expect, it } from "vitest";
import { PluginError } from "./api.js";

describe("PluginError", () => {
  it("carries its code, message and cause", () => {
    const cause = new Error("disk");
    const error = new PluginError("BAD_PLUGIN", "plugin module /x.js: cannot import: disk", { cause });
    expect(error.code).toBe("BAD_PLUGIN");
    expect(error.name).toBe("PluginError");
    expect(error.message).toBe("plugin module /x.js: cannot import: disk");
    expect(error.cause).toBe(cause);
    expect(error).toBeInstanceOf(Error);
  });

  it("is recognised by instanceof when built by another copy of api.ts (a plugin with its own copy)", () => {
    // What a second copy of the module defines: same name and codes, a different class object.
    class CopiedPluginError extends Error {
      constructor(
        readonly code: string,
        message: string,
      ) {
        super(message);
        this.name = "PluginError";
      }
    }
    expect(new CopiedPluginError("UNKNOWN_OPERATION", "x") instanceof PluginError).toBe(true);
    expect(new CopiedPluginError("NOT_A_CODE", "x") instanceof PluginError).toBe(false);
    expect(Object.assign(new Error("x"), { code: "BAD_ARGUMENT" }) instanceof PluginError).toBe(false);
    expect(new TypeError("x") instanceof PluginError).toBe(false);
    expect({ name: "PluginError", code: "BAD_ARGUMENT", message: "x" } instanceof PluginError).toBe(false);
  });

  it("keeps instanceof exact for subclasses", () => {
    class SubError extends PluginError {}
    expect(new SubError("BAD_ARGUMENT", "x") instanceof SubError).toBe(true);
    expect(new PluginError("BAD_ARGUMENT", "x") instanceof SubError).toBe(false);
    expect(new SubError("BAD_ARGUMENT", "x") instanceof PluginError).toBe(true);
  });
});
