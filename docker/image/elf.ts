// Reads the DT_NEEDED entries (the shared libraries a file links) of 64-bit little-endian ELF
// files, so the ~120 xtables modules need no `ldd` each: ldd starts the loader once per file,
// which took 30 s on a loaded 2-core machine; reading the headers takes milliseconds.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

const programHeaderDynamic = 2;
const programHeaderLoad = 1;
const dynamicNeeded = 1n;
const dynamicStringTable = 5n;

/** The sonames a file needs, or undefined when it is not a 64-bit little-endian ELF file. */
export async function neededLibraries(path: string): Promise<string[] | undefined> {
  const bytes = await readFile(path);
  const isElf64Le = bytes.length > 64 && bytes.readUInt32BE(0) === 0x7f454c46 && bytes[4] === 2 && bytes[5] === 1;
  if (!isElf64Le) {
    return undefined;
  }
  const programHeaderOffset = Number(bytes.readBigUInt64LE(0x20));
  const programHeaderSize = bytes.readUInt16LE(0x36);
  const programHeaderCount = bytes.readUInt16LE(0x38);
  const loads: { virtualAddress: bigint; fileOffset: bigint; fileSize: bigint }[] = [];
  let dynamic: { offset: number; size: number } | undefined;
  for (let index = 0; index < programHeaderCount; index += 1) {
    const at = programHeaderOffset + index * programHeaderSize;
    const type = bytes.readUInt32LE(at);
    if (type === programHeaderLoad) {
      loads.push({
        fileOffset: bytes.readBigUInt64LE(at + 0x08),
        virtualAddress: bytes.readBigUInt64LE(at + 0x10),
        fileSize: bytes.readBigUInt64LE(at + 0x20),
      });
    } else if (type === programHeaderDynamic) {
      dynamic = { offset: Number(bytes.readBigUInt64LE(at + 0x08)), size: Number(bytes.readBigUInt64LE(at + 0x20)) };
    }
  }
  if (dynamic === undefined) {
    return []; // Statically linked.
  }
  const neededOffsets: bigint[] = [];
  let stringTableAddress: bigint | undefined;
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.size; at += 16) {
    const tag = bytes.readBigInt64LE(at);
    const value = bytes.readBigUInt64LE(at + 8);
    if (tag === 0n) {
      break;
    }
    if (tag === dynamicNeeded) {
      neededOffsets.push(value);
    } else if (tag === dynamicStringTable) {
      stringTableAddress = value;
    }
  }
  // DT_STRTAB holds a virtual address; the load segment containing it maps it to a file offset.
  const segment = loads.find(
    (load) => stringTableAddress !== undefined && stringTableAddress >= load.virtualAddress && stringTableAddress < load.virtualAddress + load.fileSize,
  );
  if (stringTableAddress === undefined || segment === undefined) {
    return undefined;
  }
  const stringTable = Number(stringTableAddress - segment.virtualAddress + segment.fileOffset);
  return neededOffsets.map((offset) => {
    const start = stringTable + Number(offset);
    return bytes.toString("latin1", start, bytes.indexOf(0, start));
  });
}

/**
 * The host paths of the libraries the given files need, transitively, looked up by soname in
 * `libraryDirectories`. Sonames found nowhere are returned in `missing` rather than thrown: a module
 * for a feature raftlab never uses may lack its library.
 */
export async function libraryClosure(files: readonly string[], libraryDirectories: readonly string[]): Promise<{ found: string[]; missing: string[] }> {
  const found = new Map<string, string>();
  const missing = new Set<string>();
  const pending = [...files];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    for (const soname of (await neededLibraries(file)) ?? []) {
      if (found.has(soname) || missing.has(soname)) {
        continue;
      }
      const path = libraryDirectories.map((directory) => join(directory, soname)).find((candidate) => existsSync(candidate));
      if (path === undefined) {
        missing.add(soname);
      } else {
        found.set(soname, path);
        pending.push(path);
      }
    }
  }
  return { found: [...found.values()].sort(), missing: [...missing].sort() };
}
