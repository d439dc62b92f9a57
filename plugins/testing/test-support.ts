// Small helpers shared by the plugins' own test files.
import { PluginError, type Json, type Operation, type Outcome } from "../api.js";

export const op = (f: string, key: string | null, value: Json = null): Operation => ({ f, key, value });
export const ok = (value: Json): Outcome => ({ known: true, value });
export const unknown: Outcome = { known: false };

/** The code of the PluginError `action` throws; throws itself if it throws something else or nothing. */
export function pluginErrorCode(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof PluginError) {
      return error.code;
    }
    throw error;
  }
  throw new Error("expected a PluginError, but nothing was thrown");
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
