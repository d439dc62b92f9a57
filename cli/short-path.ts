// Paths as the CLIs print them: relative to the working directory when below it, else absolute.
import { isAbsolute, relative, resolve } from "node:path";

export function shortPath(path: string): string {
  const fromHere = relative(process.cwd(), path);
  return fromHere.startsWith("..") || isAbsolute(fromHere) ? resolve(path) : fromHere;
}
