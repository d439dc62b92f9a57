// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), slice-by-8. Node 20's zlib has no CRC-32C,
// and this is on every frame and WAL record, so it is table-driven and processes 8 bytes a step.

const CASTAGNOLI_REFLECTED = 0x82f63b78;
const TABLE_COUNT = 8;

/** TABLES[k * 256 + b]: the CRC of byte b followed by k zero bytes (slice-by-8 tables). */
const TABLES: Uint32Array = buildTables();

function buildTables(): Uint32Array {
  const tables = new Uint32Array(TABLE_COUNT * 256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 1 ? (crc >>> 1) ^ CASTAGNOLI_REFLECTED : crc >>> 1;
    }
    tables[byte] = crc >>> 0;
  }
  for (let byte = 0; byte < 256; byte++) {
    let crc = tables[byte]!;
    for (let k = 1; k < TABLE_COUNT; k++) {
      crc = tables[crc & 0xff]! ^ (crc >>> 8);
      tables[k * 256 + byte] = crc >>> 0;
    }
  }
  return tables;
}

/**
 * CRC-32C of `bytes[start, end)`. Pass a previous result as `previous` to continue a checksum over
 * data split across buffers: crc32c(b, 0, b.length, crc32c(a)) === crc32c(a ++ b).
 */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length, previous = 0): number {
  if (!(start >= 0 && start <= end && end <= bytes.length)) {
    throw new RangeError(`crc32c: range [${start}, ${end}) outside a ${bytes.length}-byte buffer`);
  }
  const t = TABLES;
  let crc = ~previous >>> 0;
  let i = start;
  const fastEnd = end - ((end - start) % 8);
  while (i < fastEnd) {
    const low = (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) ^ crc;
    const high = bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24);
    crc =
      t[7 * 256 + (low & 0xff)]! ^
      t[6 * 256 + ((low >>> 8) & 0xff)]! ^
      t[5 * 256 + ((low >>> 16) & 0xff)]! ^
      t[4 * 256 + (low >>> 24)]! ^
      t[3 * 256 + (high & 0xff)]! ^
      t[2 * 256 + ((high >>> 8) & 0xff)]! ^
      t[256 + ((high >>> 16) & 0xff)]! ^
      t[high >>> 24]!;
    i += 8;
  }
  while (i < end) {
    crc = t[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
    i++;
  }
  return ~crc >>> 0;
}
