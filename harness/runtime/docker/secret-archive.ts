// A one-file tar archive (POSIX ustar) for Docker's putArchive: how the run's cluster secret gets
// into each container before it starts, as a file readable by root only and never on a command
// line or in the container's environment (both show in `docker inspect`).

const BLOCK_BYTES = 512;

/** An archive holding `name` with `content`, mode 0600, owned by root. */
export function singleFileTar(name: string, content: Uint8Array, mode = 0o600): Buffer {
  if (!/^[A-Za-z0-9._-]{1,99}$/.test(name)) {
    throw new RangeError(`singleFileTar: "${name}" must be a plain file name under 100 characters`);
  }
  const header = Buffer.alloc(BLOCK_BYTES);
  header.write(name, 0, "ascii");
  writeOctal(header, 100, 8, mode);
  writeOctal(header, 108, 8, 0); // uid
  writeOctal(header, 116, 8, 0); // gid
  writeOctal(header, 124, 12, content.length);
  writeOctal(header, 136, 12, Math.floor(Date.now() / 1000));
  header.fill(" ", 148, 156); // checksum field counts as spaces while summing
  header.write("0", 156, "ascii"); // regular file
  header.write("ustar\u000000", 257, "binary");
  let checksum = 0;
  for (const byte of header) {
    checksum += byte;
  }
  header.write(`${checksum.toString(8).padStart(6, "0")}\u0000 `, 148, "binary");
  const padding = (BLOCK_BYTES - (content.length % BLOCK_BYTES)) % BLOCK_BYTES;
  return Buffer.concat([header, content, Buffer.alloc(padding), Buffer.alloc(2 * BLOCK_BYTES)]);
}

function writeOctal(header: Buffer, offset: number, width: number, value: number): void {
  header.write(`${value.toString(8).padStart(width - 1, "0")}\u0000`, offset, "ascii");
}
