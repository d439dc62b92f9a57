// UTF-8 checks of history bytes: invalid bytes are refused naming their line and byte, since
// decoding them leniently would turn every bad byte into U+FFFD, so "\xff" would read as "\xfe".
import { isUtf8 } from "node:buffer";
import { HistoryError } from "./history-error.js";

/** The error for a line whose bytes are not UTF-8. */
export function badEncoding(lineBytes: Buffer, file: string, line: number): HistoryError {
  const column = firstInvalidByte(lineBytes);
  const byte = lineBytes[column] ?? 0;
  return new HistoryError(
    "HISTORY_BAD_ENCODING",
    file,
    line,
    null,
    `not valid UTF-8 (byte 0x${byte.toString(16).padStart(2, "0")} at byte ${column + 1} of the line); write strings as UTF-8 or \\u escapes`,
  );
}

/**
 * The file as text. Invalid UTF-8 is refused, naming the line: decoding it leniently would turn
 * every bad byte into U+FFFD, so "\xff" and "\xfe" would read as the same value.
 */
export function decodeUtf8(bytes: Buffer, file: string): string {
  if (isUtf8(bytes)) {
    return bytes.toString("utf8");
  }
  let lineStart = 0;
  for (let line = 1; ; line += 1) {
    const newline = bytes.indexOf(0x0a, lineStart);
    const lineEnd = newline === -1 ? bytes.length : newline;
    const lineBytes = bytes.subarray(lineStart, lineEnd);
    if (!isUtf8(lineBytes)) {
      throw badEncoding(lineBytes, file, line);
    }
    if (newline === -1) {
      throw new Error(`invariant: ${file} is not UTF-8 but each of its lines is`);
    }
    lineStart = newline + 1;
  }
}

/** The offset of the first byte at which `bytes` stops being valid UTF-8 (character by character). */
function firstInvalidByte(bytes: Uint8Array): number {
  let offset = 0;
  while (offset < bytes.length) {
    const lead = bytes[offset] ?? 0;
    const length = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    if (!isUtf8(bytes.subarray(offset, offset + length))) {
      return offset;
    }
    offset += length;
  }
  return offset;
}
