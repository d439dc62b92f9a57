// Snapshot bytes shared by the built-in plugins: UTF-8 JSON of an envelope
// {"plugin": name, "version": n, "state": ...}. The envelope lets restore refuse another plugin's
// snapshot (or a newer format) with a message that says so, instead of misreading it.
import { PluginError, type Json } from "./api.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeSnapshot(plugin: string, version: number, state: Json): Uint8Array {
  return encoder.encode(JSON.stringify({ plugin, version, state }));
}

/** Returns the envelope's `state`; throws BAD_SNAPSHOT naming what is wrong with the bytes. */
export function decodeSnapshot(data: Uint8Array, plugin: string, version: number): Json {
  if (!(data instanceof Uint8Array)) {
    throw new PluginError("BAD_SNAPSHOT", `${plugin} snapshot: expected bytes, got ${typeof data}`);
  }
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    throw new PluginError("BAD_SNAPSHOT", `${plugin} snapshot: ${data.byteLength} bytes are not valid UTF-8`);
  }
  let envelope: unknown;
  try {
    envelope = JSON.parse(text);
  } catch (error) {
    throw new PluginError("BAD_SNAPSHOT", `${plugin} snapshot: not JSON (${(error as Error).message})`);
  }
  if (typeof envelope !== "object" || envelope === null || Array.isArray(envelope)) {
    throw new PluginError("BAD_SNAPSHOT", `${plugin} snapshot: expected an object {plugin, version, state}`);
  }
  const fields = envelope as Record<string, unknown>;
  if (fields["plugin"] !== plugin) {
    throw new PluginError("BAD_SNAPSHOT", `${plugin} snapshot: field "plugin" is ${JSON.stringify(fields["plugin"])}, expected "${plugin}"`);
  }
  if (fields["version"] !== version) {
    throw new PluginError("BAD_SNAPSHOT", `${plugin} snapshot: field "version" is ${JSON.stringify(fields["version"])}, expected ${version}`);
  }
  if (!("state" in fields)) {
    throw new PluginError("BAD_SNAPSHOT", `${plugin} snapshot: field "state" is missing`);
  }
  return fields["state"] as Json;
}
