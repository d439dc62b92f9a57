// The cluster secret file (--secret-file): read once at start-up. Like ssh with its keys, a file
// that others on the host may read is refused, since whoever reads it can join the cluster.
import { randomBytes } from "node:crypto";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { ConfigError } from "./config-error.js";

/** Shorter secrets are refused: 32 hex characters carry 128 bits. */
export const SECRET_CHARS_MIN = 32;
/** A secret is a line of text, not a data file. */
const SECRET_BYTES_MAX = 4096;

/** The file's content without surrounding whitespace, as bytes; throws ConfigError naming `flag` and the file. */
export function readSecretFile(flag: string, path: string): Uint8Array {
  let mode: number;
  let size: number;
  try {
    const stats = statSync(path);
    if (!stats.isFile()) {
      throw new ConfigError(flag, `${path} is not a regular file`);
    }
    mode = stats.mode;
    size = stats.size;
  } catch (error) {
    if (error instanceof ConfigError) {
      throw error;
    }
    throw new ConfigError(flag, `cannot read ${path}: ${(error as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(flag, `${path} has mode 0${(mode & 0o777).toString(8)}: other users may read it; chmod 600 it`);
  }
  if (size > SECRET_BYTES_MAX) {
    throw new ConfigError(flag, `${path} is ${size} bytes; a secret file holds one line of at most ${SECRET_BYTES_MAX} bytes`);
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8").trim();
  } catch (error) {
    throw new ConfigError(flag, `cannot read ${path}: ${(error as Error).message}`);
  }
  if (text.length < SECRET_CHARS_MIN) {
    throw new ConfigError(flag, `${path} holds ${text.length} characters; a secret needs at least ${SECRET_CHARS_MIN}`);
  }
  return Buffer.from(text, "utf8");
}

/** A fresh secret for one cluster: 32 random bytes as 64 hex characters. */
export function newSecret(): string {
  return randomBytes(32).toString("hex");
}

/** Writes `secret` to a new file readable by its owner only (mode 0600, also when umask is lax). */
export function writeSecretFile(path: string, secret: string): void {
  writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
}
