// Headless Chromium for the tests that look at raftlab's pages: Debian's chromium through
// playwright-core, with a profile in the test's own temporary directory. One list of flags, so every
// browser test runs the same browser (no sandbox in containers, no GPU, no network chatter).
import { chromium, type BrowserContext } from "playwright-core";

export const chromiumExecutablePath = "/usr/bin/chromium";

export const chromiumArgs: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Launches Chromium with its profile in `profileDirectory`; the caller closes the context. */
export function launchChromium(profileDirectory: string, viewport: { width: number; height: number }): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDirectory, { executablePath: chromiumExecutablePath, args: [...chromiumArgs], viewport });
}
